#include "ports/vnet_hdr.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace tapswitch {

namespace {

constexpr uint16_t kTcpCsumOffset = 16;  // offsetof(rte_tcp_hdr, cksum)
constexpr uint16_t kUdpCsumOffset = 6;   // offsetof(rte_udp_hdr, dgram_cksum)
constexpr uint8_t kTcpCwr = 0x80;

// Completes a partial Internet checksum in place: the ones' complement sum from `start` to the
// end of the frame (the field's current content, the pseudo-header sum, included) goes, inverted,
// into the 16 bits at start + offset. What a virtio device does for NEEDS_CSUM.
bool complete_generic(rte_mbuf* m, uint32_t start, uint32_t offset) noexcept {
  if (start >= m->pkt_len || start + offset + 2 > m->data_len) return false;
  uint16_t sum = 0;
  if (!raw_cksum_mbuf(m, start, m->pkt_len - start, &sum)) return false;
  uint16_t v = static_cast<uint16_t>(~sum);
  std::memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, start + offset), &v, 2);
  return true;
}

}  // namespace

bool raw_cksum_mbuf(const rte_mbuf* m, uint32_t off, uint32_t len, uint16_t* cksum) noexcept {
  if (off > m->pkt_len || len > m->pkt_len - off) return false;
  const rte_mbuf* seg = m;
  while (seg && off >= seg->data_len && len) {
    off -= seg->data_len;
    seg = seg->next;
  }
  uint32_t sum = 0, done = 0;
  while (done < len) {
    if (!seg) return false;  // a chain shorter than its pkt_len
    const uint32_t n = std::min<uint32_t>(seg->data_len - off, len - done);
    uint16_t part = __rte_raw_cksum_reduce(__rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void*, off), n, 0));
    if (done & 1) part = rte_bswap16(part);  // its bytes sit in the other halves of the words
    sum += part;
    done += n;
    seg = seg->next;
    off = 0;
  }
  *cksum = __rte_raw_cksum_reduce(sum);
  return true;
}

uint16_t l2_header_len(const uint8_t* p, uint32_t len, uint16_t* ether_type) noexcept {
  uint32_t off = 12;
  for (int tags = 0;; ++tags) {
    if (off + 2 > len) return 0;
    uint16_t et = static_cast<uint16_t>((p[off] << 8) | p[off + 1]);
    if ((et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) && tags < 2) {
      off += 4;
      continue;
    }
    *ether_type = et;
    return static_cast<uint16_t>(off + 2);
  }
}

bool vnet_hdr_to_mbuf(const VnetHdr& h, rte_mbuf* m) noexcept {
  if (likely(h.flags == 0 && h.gso_type == kVnetGsoNone)) return true;
  if (!(h.flags & kVnetFNeedsCsum)) {
    if (h.gso_type != kVnetGsoNone) return false;  // GSO always comes with a partial checksum
    if (h.flags & kVnetFDataValid) m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    return true;
  }
  // A partial checksum: find the headers it names. They must lie in the first segment.
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  uint16_t et = 0;
  const uint16_t l2 = l2_header_len(p, m->data_len, &et);
  const uint32_t start = h.csum_start;
  const bool v4 = et == RTE_ETHER_TYPE_IPV4, v6 = et == RTE_ETHER_TYPE_IPV6;
  const uint32_t min_l3 = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const bool tcp = h.csum_offset == kTcpCsumOffset, udp = h.csum_offset == kUdpCsumOffset;
  // The mbuf's header lengths are bit fields (l2_len 7 bits, l3_len 9): a stack of tags or
  // IPv6 extension headers longer than they hold cannot be described there.
  const bool fits = l2 < (1u << RTE_MBUF_L2_LEN_BITS) && start - l2 < (1u << RTE_MBUF_L3_LEN_BITS);
  if (l2 == 0 || !(v4 || v6) || start < l2 + min_l3 || !(tcp || udp) || !fits) {
    // Not TCP or UDP over IP, or headers too long for the mbuf flags to say: finish the
    // checksum here (a GSO frame cannot be described at all, so it is refused).
    return h.gso_type == kVnetGsoNone && complete_generic(m, start, h.csum_offset);
  }
  if (start + (tcp ? sizeof(rte_tcp_hdr) : sizeof(rte_udp_hdr)) > m->data_len) return false;
  const uint32_t l4_len = tcp ? static_cast<uint32_t>((p[start + 12] >> 4) * 4) : sizeof(rte_udp_hdr);
  if ((tcp && l4_len < sizeof(rte_tcp_hdr)) || start + l4_len > m->data_len) return false;

  uint64_t ol = v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
  ol |= tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
  const uint8_t gso = h.gso_type & static_cast<uint8_t>(~kVnetGsoEcn);
  if (gso != kVnetGsoNone) {
    const bool ok = (gso == kVnetGsoTcpV4 && v4 && tcp) || (gso == kVnetGsoTcpV6 && v6 && tcp) ||
                    (gso == kVnetGsoUdpL4 && udp);
    if (!ok || h.gso_size == 0) return false;
    ol |= tcp ? RTE_MBUF_F_TX_TCP_SEG : RTE_MBUF_F_TX_UDP_SEG;
    m->tso_segsz = h.gso_size;
  }
  m->ol_flags |= ol;
  m->l2_len = l2;
  m->l3_len = start - l2;
  m->l4_len = l4_len;
  return true;
}

bool rx_offloads_to_mbuf(rte_mbuf* m) noexcept {
  const uint64_t ol = m->ol_flags;
  const bool partial = (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
  const bool lro = ol & RTE_MBUF_F_RX_LRO;
  m->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_LRO);
  if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  if (likely(!partial && !lro)) return true;
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
  uint16_t et = 0;
  const uint16_t l2 = l2_header_len(p, m->data_len, &et);
  uint32_t l3 = 0;
  uint8_t proto = 0;
  if (l2 && et == RTE_ETHER_TYPE_IPV4 && l2 + sizeof(rte_ipv4_hdr) <= m->data_len) {
    l3 = (p[l2] & 0xf) * 4u;
    if (l3 >= sizeof(rte_ipv4_hdr)) proto = p[l2 + 9];  // else no IPv4 header: not described
  } else if (l2 && et == RTE_ETHER_TYPE_IPV6 && l2 + sizeof(rte_ipv6_hdr) <= m->data_len) {
    l3 = sizeof(rte_ipv6_hdr);
    proto = p[l2 + 6];
  }
  const bool tcp = proto == IPPROTO_TCP, udp = proto == IPPROTO_UDP;
  if (!(tcp || udp) || l2 + l3 + (tcp ? kTcpCsumOffset : kUdpCsumOffset) + 2u > m->data_len) return false;
  if (udp && lro) return false;  // UFO: one datagram to send as IP fragments, which no port takes
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = static_cast<uint16_t>(l2 + l3);
  h.csum_offset = tcp ? kTcpCsumOffset : kUdpCsumOffset;
  if (lro) {
    h.gso_type = et == RTE_ETHER_TYPE_IPV4 ? kVnetGsoTcpV4 : kVnetGsoTcpV6;
    h.gso_size = m->tso_segsz;
    if (!partial) {  // a complete checksum: a GSO packet carries the pseudo-header sum instead
      const uint16_t ps = et == RTE_ETHER_TYPE_IPV4 ? rte_ipv4_phdr_cksum(reinterpret_cast<rte_ipv4_hdr*>(p + l2), 0)
                                                    : rte_ipv6_phdr_cksum(reinterpret_cast<rte_ipv6_hdr*>(p + l2), 0);
      std::memcpy(p + h.csum_start + h.csum_offset, &ps, 2);
    }
  }
  return vnet_hdr_to_mbuf(h, m);
}

VnetHdr mbuf_to_vnet_hdr(const rte_mbuf* m) noexcept {
  VnetHdr h;
  const uint64_t ol = m->ol_flags;
  const uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK;
  const bool seg = ol & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG);
  if (likely(!seg && l4 == 0)) {
    if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) h.flags = kVnetFDataValid;
    return h;
  }
  const bool tcp = (ol & RTE_MBUF_F_TX_TCP_SEG) || l4 == RTE_MBUF_F_TX_TCP_CKSUM;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = static_cast<uint16_t>(m->l2_len + m->l3_len);
  h.csum_offset = tcp ? kTcpCsumOffset : kUdpCsumOffset;
  h.hdr_len = static_cast<uint16_t>(h.csum_start + m->l4_len);
  if (seg) {
    if (tcp) {
      h.gso_type = (ol & RTE_MBUF_F_TX_IPV6) ? kVnetGsoTcpV6 : kVnetGsoTcpV4;
      // A set CWR must stay on the first segment only: say so, as the kernel does.
      if (rte_pktmbuf_mtod_offset(m, const uint8_t*, h.csum_start)[13] & kTcpCwr) h.gso_type |= kVnetGsoEcn;
    } else {
      h.gso_type = kVnetGsoUdpL4;
    }
    h.gso_size = m->tso_segsz;
  }
  return h;
}

}  // namespace tapswitch
