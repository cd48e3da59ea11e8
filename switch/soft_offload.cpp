#include "switch/soft_offload.h"

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ports/vnet_hdr.h"

namespace tapswitch {

namespace {

constexpr uint64_t kL4Flags = RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;
constexpr uint64_t kTxFlags = kL4Flags | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM;
constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;

struct Pseudo4 {
  uint32_t src, dst;
  uint8_t zero, proto;
  uint16_t len;
} __attribute__((packed));
struct Pseudo6 {
  uint8_t src[16], dst[16];
  uint32_t len;
  uint8_t zero[3], proto;
} __attribute__((packed));

bool is_tcp(uint64_t ol) noexcept {
  return (ol & RTE_MBUF_F_TX_TCP_SEG) || (ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM;
}
bool is_udp(uint64_t ol) noexcept {
  return (ol & RTE_MBUF_F_TX_UDP_SEG) || (ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM;
}

void ipv4_header_checksum(rte_mbuf* m) noexcept {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// Appends len bytes of src, from offset off, to the chain dst, chaining new mbufs of dst's pool
// as it fills up.
bool append_from(rte_mbuf* dst, const rte_mbuf* src, uint32_t off, uint32_t len) noexcept {
  rte_mbuf* tail = rte_pktmbuf_lastseg(dst);
  const rte_mbuf* sg = src;
  while (off >= sg->data_len) {
    off -= sg->data_len;
    sg = sg->next;
  }
  while (len) {
    if (rte_pktmbuf_tailroom(tail) == 0) {
      rte_mbuf* nm = rte_pktmbuf_alloc(dst->pool);
      if (!nm) return false;
      nm->data_off = 0;
      tail->next = nm;
      tail = nm;
      dst->nb_segs++;
    }
    const uint32_t n = std::min({len, static_cast<uint32_t>(rte_pktmbuf_tailroom(tail)),
                                 static_cast<uint32_t>(sg->data_len - off)});
    std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len),
                rte_pktmbuf_mtod_offset(sg, const uint8_t*, off), n);
    tail->data_len = static_cast<uint16_t>(tail->data_len + n);
    dst->pkt_len += n;
    off += n;
    len -= n;
    if (off == sg->data_len && len) {
      sg = sg->next;
      off = 0;
    }
  }
  return true;
}

void free_all(rte_mbuf** out, unsigned n) noexcept {
  if (n) rte_pktmbuf_free_bulk(out, n);
}

// Finishes one segment: lengths and ids, TCP flags, checksums. `payload` is its L4 payload.
bool finish_segment(rte_mbuf* s, uint64_t ol, uint32_t index, bool last, uint32_t payload,
                    uint32_t seq, uint16_t ip_id) noexcept {
  const bool tcp = ol & RTE_MBUF_F_TX_TCP_SEG;
  s->ol_flags = (ol & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)) |
                (tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
  uint8_t* p = rte_pktmbuf_mtod(s, uint8_t*);
  const uint32_t l4off = s->l2_len + s->l3_len;
  const uint32_t l4 = s->l4_len;
  if (ol & RTE_MBUF_F_TX_IPV4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p + s->l2_len);
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(s->l3_len + l4 + payload));
    ip->packet_id = rte_cpu_to_be_16(ip_id);
    ipv4_header_checksum(s);
  } else {
    auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(p + s->l2_len);
    ip6->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(s->l3_len - sizeof(rte_ipv6_hdr) + l4 + payload));
  }
  if (tcp) {
    auto* th = reinterpret_cast<rte_tcp_hdr*>(p + l4off);
    th->sent_seq = rte_cpu_to_be_32(seq);
    if (!last) th->tcp_flags &= static_cast<uint8_t>(~(kFin | kPsh));
    if (index) th->tcp_flags &= static_cast<uint8_t>(~kCwr);
  } else {
    auto* uh = reinterpret_cast<rte_udp_hdr*>(p + l4off);
    uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(l4 + payload));
  }
  return soft_l4_checksum(s);
}

SegmentResult segment_gso(rte_mbuf* m, uint32_t frame_len, rte_mempool* direct, rte_mempool* indirect, rte_mbuf** out,
                          unsigned cap, unsigned* n_out) noexcept {
  const uint64_t ol = m->ol_flags;
  rte_gso_ctx ctx{};
  ctx.direct_pool = direct;
  ctx.indirect_pool = indirect;
  ctx.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
  ctx.gso_size = static_cast<uint16_t>(frame_len);
  const int k = rte_gso_segment(m, &ctx, out, static_cast<uint16_t>(cap));
  m->ol_flags = ol;  // librte_gso cleared TCP_SEG of our private m
  if (k == -ENOMEM) return SegmentResult::no_mbuf;
  if (k <= 0) return SegmentResult::bad;
  const uint32_t hdrs = m->l2_len + m->l3_len + m->l4_len;
  for (int i = 0; i < k; ++i) {
    rte_mbuf* s = out[i];
    s->l2_len = m->l2_len;
    s->l3_len = m->l3_len;
    s->l4_len = m->l4_len;
    s->ol_flags = ol & ~RTE_MBUF_F_TX_TCP_SEG;
    // librte_gso set the IP length, id, sequence number and FIN/PSH; the rest is ours.
    auto* th = rte_pktmbuf_mtod_offset(s, rte_tcp_hdr*, m->l2_len + m->l3_len);
    if (i) th->tcp_flags &= static_cast<uint8_t>(~kCwr);
    s->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
    ipv4_header_checksum(s);
    if (s->pkt_len < hdrs || !soft_l4_checksum(s)) {
      free_all(out, static_cast<unsigned>(k));
      return SegmentResult::bad;
    }
  }
  *n_out = static_cast<unsigned>(k);
  return SegmentResult::ok;
}

SegmentResult segment_copy(rte_mbuf* m, uint32_t frame_len, rte_mempool* direct, rte_mbuf** out, unsigned nseg) noexcept {
  const uint64_t ol = m->ol_flags;
  const uint32_t hdrs = m->l2_len + m->l3_len + m->l4_len;
  const uint32_t seg_payload = frame_len - hdrs;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t seq0 =
      (ol & RTE_MBUF_F_TX_TCP_SEG)
          ? rte_be_to_cpu_32(reinterpret_cast<const rte_tcp_hdr*>(p + m->l2_len + m->l3_len)->sent_seq)
          : 0;
  const uint16_t id0 = (ol & RTE_MBUF_F_TX_IPV4)
                           ? rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr*>(p + m->l2_len)->packet_id)
                           : 0;
  uint32_t off = hdrs;
  for (unsigned i = 0; i < nseg; ++i) {
    const uint32_t len = std::min(seg_payload, m->pkt_len - off);
    rte_mbuf* s = rte_pktmbuf_alloc(direct);
    char* d = s ? rte_pktmbuf_append(s, static_cast<uint16_t>(hdrs)) : nullptr;
    if (!d || !append_from(s, m, off, len)) {
      if (s) rte_pktmbuf_free(s);
      free_all(out, i);
      return SegmentResult::no_mbuf;
    }
    std::memcpy(d, p, hdrs);
    s->l2_len = m->l2_len;
    s->l3_len = m->l3_len;
    s->l4_len = m->l4_len;
    out[i] = s;
    if (!finish_segment(s, ol, i, i + 1 == nseg, len, seq0 + (off - hdrs), static_cast<uint16_t>(id0 + i))) {
      free_all(out, i + 1);
      return SegmentResult::bad;
    }
    off += len;
  }
  return SegmentResult::ok;
}

}  // namespace

bool first_segment_private(const rte_mbuf* m) noexcept {
  return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

bool soft_l4_checksum(rte_mbuf* m) noexcept {
  const uint64_t ol = m->ol_flags;
  const bool tcp = is_tcp(ol), udp = is_udp(ol);
  m->ol_flags &= ~kTxFlags;
  if (!tcp && !udp) return true;
  const uint32_t l2 = m->l2_len, l4off = l2 + m->l3_len;
  const uint32_t field = l4off + (tcp ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum));
  if (field + 2 > m->data_len) return false;
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
  const uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  uint32_t l4len, sum;
  if (ol & RTE_MBUF_F_TX_IPV4) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + l2);
    const uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if (total < m->l3_len || l2 + total > m->pkt_len) return false;
    l4len = total - m->l3_len;
    const Pseudo4 ph{ip->src_addr, ip->dst_addr, 0, proto, rte_cpu_to_be_16(static_cast<uint16_t>(l4len))};
    sum = rte_raw_cksum(&ph, sizeof ph);
  } else {
    const auto* ip6 = reinterpret_cast<const rte_ipv6_hdr*>(p + l2);
    const uint32_t total = sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip6->payload_len);
    if (total < m->l3_len || l2 + total > m->pkt_len) return false;
    l4len = total - m->l3_len;
    Pseudo6 ph{};
    std::memcpy(ph.src, ip6->src_addr, 16);
    std::memcpy(ph.dst, ip6->dst_addr, 16);
    ph.len = rte_cpu_to_be_32(l4len);
    ph.proto = proto;
    sum = rte_raw_cksum(&ph, sizeof ph);
  }
  std::memset(p + field, 0, 2);
  uint16_t raw = 0;
  if (!raw_cksum_mbuf(m, l4off, l4len, &raw)) return false;
  uint16_t cksum = static_cast<uint16_t>(~__rte_raw_cksum_reduce(sum + raw));
  if (udp && cksum == 0) cksum = 0xffff;
  std::memcpy(p + field, &cksum, 2);
  return true;
}

SegmentResult soft_segment(rte_mbuf* m, uint32_t frame_len, rte_mempool* direct, rte_mempool* indirect, rte_mbuf** out,
                           unsigned cap, unsigned* n_out, bool* copied) noexcept {
  *n_out = 0;
  *copied = false;
  const uint64_t ol = m->ol_flags;
  const uint32_t hdrs = m->l2_len + m->l3_len + m->l4_len;
  // Each segment's headers are copied into one mbuf of `direct` (all the mbuf fields can describe,
  // under 900 bytes, fit one of the switch's pool).
  const uint32_t room = rte_pktmbuf_data_room_size(direct) - RTE_PKTMBUF_HEADROOM;
  if (hdrs >= frame_len || hdrs > m->data_len || hdrs > room || m->pkt_len <= hdrs ||
      !(ol & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)))
    return SegmentResult::bad;
  // Each segment's IPv4 header checksum is computed over IHL * 4 bytes: they must be the l3_len
  // bytes copied, not what follows them in the segment's buffer (stale data of other frames).
  if ((ol & RTE_MBUF_F_TX_IPV4) && (rte_pktmbuf_mtod_offset(m, const uint8_t*, m->l2_len)[0] & 0xf) * 4u != m->l3_len)
    return SegmentResult::bad;
  const uint32_t seg_payload = frame_len - hdrs;
  const unsigned nseg = (m->pkt_len - hdrs + seg_payload - 1) / seg_payload;
  if (nseg > cap) return SegmentResult::too_many;
  if ((ol & RTE_MBUF_F_TX_TCP_SEG) && (ol & RTE_MBUF_F_TX_IPV4) && first_segment_private(m))
    return segment_gso(m, frame_len, direct, indirect, out, cap, n_out);
  *copied = true;
  SegmentResult r = segment_copy(m, frame_len, direct, out, nseg);
  if (r == SegmentResult::ok) *n_out = nseg;
  return r;
}

rte_mbuf* soft_linearize(const rte_mbuf* m, rte_mempool* pool) noexcept {
  rte_mbuf* n = rte_pktmbuf_alloc(pool);
  if (!n) return nullptr;
  char* d = rte_pktmbuf_append(n, static_cast<uint16_t>(std::min<uint32_t>(m->pkt_len, UINT16_MAX)));
  if (!d || m->pkt_len > UINT16_MAX) {
    rte_pktmbuf_free(n);
    return nullptr;
  }
  for (const rte_mbuf* s = m; s; s = s->next) {
    std::memcpy(d, rte_pktmbuf_mtod(s, const void*), s->data_len);
    d += s->data_len;
  }
  n->ol_flags = m->ol_flags & kTxFlags;
  n->tx_offload = m->tx_offload;
  return n;
}

}  // namespace tapswitch
