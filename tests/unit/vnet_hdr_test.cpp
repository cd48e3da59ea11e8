// The virtio-net header <-> mbuf offload mapping of raw-fd taps.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <rte_mbuf.h>

#include "ports/vnet_hdr.h"
#include "tests/unit/frames.h"
#include "tests/unit/packets.h"

namespace tapswitch::test {
namespace {

VnetHdr partial_hdr(const PacketSpec& s) {
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = static_cast<uint16_t>(l2_len_of(s) + l3_len_of(s));
  h.csum_offset = s.udp ? 6 : 16;
  h.hdr_len = static_cast<uint16_t>(h.csum_start + l4_len_of(s));
  return h;
}

void expect_same(const VnetHdr& a, const VnetHdr& b) {
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.gso_type, b.gso_type);
  EXPECT_EQ(a.hdr_len, b.hdr_len);
  EXPECT_EQ(a.gso_size, b.gso_size);
  EXPECT_EQ(a.csum_start, b.csum_start);
  EXPECT_EQ(a.csum_offset, b.csum_offset);
}

TEST(VnetHdr, PlainFrameHasNoOffloads) {
  MbufPtr m(to_mbuf(packet_bytes({})));
  ASSERT_TRUE(vnet_hdr_to_mbuf(VnetHdr{}, m.m));
  EXPECT_EQ(m->ol_flags, 0u);
  expect_same(mbuf_to_vnet_hdr(m.m), VnetHdr{});
}

TEST(VnetHdr, DataValidRoundTrips) {
  MbufPtr m(to_mbuf(packet_bytes({})));
  VnetHdr h;
  h.flags = kVnetFDataValid;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, PartialTcp4Checksum) {
  PacketSpec s;
  s.partial = true;
  MbufPtr m(to_mbuf(packet_bytes(s)));
  VnetHdr h = partial_hdr(s);
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_EQ(m->l2_len, 14u);
  EXPECT_EQ(m->l3_len, 20u);
  EXPECT_EQ(m->l4_len, 20u);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, PartialUdp6ChecksumTagged) {
  PacketSpec s;
  s.ipv6 = s.udp = s.partial = true;
  s.vlan = 7;
  MbufPtr m(to_mbuf(packet_bytes(s)));
  VnetHdr h = partial_hdr(s);
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(m->l2_len, 18u);
  EXPECT_EQ(m->l3_len, 40u);
  EXPECT_EQ(m->l4_len, 8u);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, Tso4RoundTrips) {
  PacketSpec s;
  s.partial = true;
  s.payload = 20000;
  MbufPtr m(to_mbuf(packet_bytes(s), 2048));
  VnetHdr h = partial_hdr(s);
  h.gso_type = kVnetGsoTcpV4;
  h.gso_size = 1448;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_EQ(m->tso_segsz, 1448u);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, Tso6WithOptionsAndVlan) {
  PacketSpec s;
  s.ipv6 = s.partial = true;
  s.vlan = 100;
  s.tcp_options = 12;
  s.payload = 9000;
  MbufPtr m(to_mbuf(packet_bytes(s), 4000));
  VnetHdr h = partial_hdr(s);
  h.gso_type = kVnetGsoTcpV6;
  h.gso_size = 1400;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->l2_len, 18u);
  EXPECT_EQ(m->l3_len, 40u);
  EXPECT_EQ(m->l4_len, 32u);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_IPV6);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, UsoRoundTrips) {
  PacketSpec s;
  s.udp = s.partial = true;
  s.payload = 6000;
  MbufPtr m(to_mbuf(packet_bytes(s), 2048));
  VnetHdr h = partial_hdr(s);
  h.gso_type = kVnetGsoUdpL4;
  h.gso_size = 1200;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_UDP_SEG);
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, CwrSetsTheEcnBitOnTransmit) {
  PacketSpec s;
  s.partial = true;
  s.payload = 5000;
  s.tcp_flags = 0x80 | 0x10;  // CWR|ACK
  MbufPtr m(to_mbuf(packet_bytes(s)));
  VnetHdr h = partial_hdr(s);
  h.gso_type = kVnetGsoTcpV4 | kVnetGsoEcn;
  h.gso_size = 1448;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  expect_same(mbuf_to_vnet_hdr(m.m), h);
}

TEST(VnetHdr, PartialChecksumOfAnotherProtocolIsCompletedOnReceive) {
  // An ICMP echo with its checksum left partial (the pseudo-header sum of ICMP is zero).
  PacketSpec s;
  s.payload = 64;
  std::vector<uint8_t> b = packet_bytes(s);
  b[23] = 1;  // IPv4 protocol: ICMP
  b[24] = b[25] = 0;
  uint16_t ipsum = static_cast<uint16_t>(~ones_sum(&b[14], 20));
  b[24] = static_cast<uint8_t>(ipsum >> 8);
  b[25] = static_cast<uint8_t>(ipsum);
  b[34] = 8;
  b[36] = b[37] = 0;
  MbufPtr m(to_mbuf(b, 60));  // over two segments
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = 34;
  h.csum_offset = 2;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags, 0u);
  std::vector<uint8_t> out(m->pkt_len);
  rte_pktmbuf_read(m.m, 0, m->pkt_len, out.data());
  EXPECT_EQ(ones_sum(&out[34], out.size() - 34), 0xffff);
}

// IPv6/UDP with a 512-byte destination-options header: the UDP header starts 552 bytes into the
// IP packet, more than the mbuf's 9-bit l3_len holds.
std::vector<uint8_t> udp6_with_long_options(uint32_t payload) {
  PacketSpec s;
  s.ipv6 = s.udp = s.partial = true;
  s.payload = payload;
  std::vector<uint8_t> b = packet_bytes(s);
  constexpr size_t kOpts = 512;
  std::vector<uint8_t> opts(kOpts, 0);
  opts[0] = b[14 + 6];  // next header: what the IPv6 header named (UDP)
  opts[1] = kOpts / 8 - 1;
  opts[2] = 1;  // PadN
  opts[3] = 252;  // PadN over bytes 4..255 (a length fits one byte); the rest are Pad1 (zero) bytes
  b.insert(b.begin() + 14 + 40, opts.begin(), opts.end());
  b[14 + 6] = 60;  // destination options
  const uint16_t plen = static_cast<uint16_t>((b[14 + 4] << 8 | b[14 + 5]) + kOpts);
  b[14 + 4] = static_cast<uint8_t>(plen >> 8);
  b[14 + 5] = static_cast<uint8_t>(plen);
  return b;
}

TEST(VnetHdr, HeadersLongerThanTheMbufFieldsAreCompletedNotMisdescribed) {
  std::vector<uint8_t> b = udp6_with_long_options(200);
  const uint16_t start = 14 + 40 + 512;
  MbufPtr m(to_mbuf(b));
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = start;
  h.csum_offset = 6;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u) << "no offload flags with a truncated l3_len";
  std::vector<uint8_t> out(m->pkt_len);
  const auto* d = static_cast<const uint8_t*>(rte_pktmbuf_read(m.m, 0, m->pkt_len, out.data()));
  out.assign(d, d + m->pkt_len);
  EXPECT_EQ(std::mismatch(out.begin(), out.begin() + start, b.begin()).first - out.begin(), start) << "headers untouched";
  // The UDP checksum, over the IPv6 pseudo-header and the datagram, now verifies.
  const size_t udp_len = out.size() - start;
  std::vector<uint8_t> pseudo(&out[14 + 8], &out[14 + 40]);
  pseudo.insert(pseudo.end(), {0, 0, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 0, 0, 0, 17});
  EXPECT_EQ(ones_sum(&out[start], udp_len, ones_sum(pseudo.data(), pseudo.size())), 0xffff);

  MbufPtr g(to_mbuf(udp6_with_long_options(3000)));
  h.gso_type = kVnetGsoUdpL4;
  h.gso_size = 1200;
  EXPECT_FALSE(vnet_hdr_to_mbuf(h, g.m)) << "a GSO frame the mbuf cannot describe is refused";
}

TEST(VnetHdr, BadHeadersAreRefused) {
  PacketSpec s4;
  s4.partial = true;
  s4.payload = 3000;
  PacketSpec s6 = s4;
  s6.ipv6 = true;
  auto refused = [](const PacketSpec& s, VnetHdr h, uint32_t seg = 2048) {
    MbufPtr m(to_mbuf(packet_bytes(s), seg));
    return !vnet_hdr_to_mbuf(h, m.m);
  };
  VnetHdr gso_no_csum;
  gso_no_csum.gso_type = kVnetGsoTcpV4;
  gso_no_csum.gso_size = 1448;
  EXPECT_TRUE(refused(s4, gso_no_csum));

  VnetHdr v4_on_v6 = partial_hdr(s6);
  v4_on_v6.gso_type = kVnetGsoTcpV4;
  v4_on_v6.gso_size = 1448;
  EXPECT_TRUE(refused(s6, v4_on_v6));

  VnetHdr ufo = partial_hdr(s4);
  ufo.gso_type = kVnetGsoUdp;
  ufo.gso_size = 1448;
  EXPECT_TRUE(refused(s4, ufo));

  VnetHdr no_size = partial_hdr(s4);
  no_size.gso_type = kVnetGsoTcpV4;
  EXPECT_TRUE(refused(s4, no_size));

  VnetHdr beyond = partial_hdr(s4);
  beyond.csum_start = 4000;
  EXPECT_TRUE(refused(s4, beyond));

  VnetHdr in_ip = partial_hdr(s4);
  in_ip.csum_start = 20;  // inside the IPv4 header, and not a TCP/UDP offset either
  in_ip.csum_offset = 5;
  EXPECT_FALSE(refused(s4, in_ip));  // generic: completed in place, as a device would

  // The TCP header must lie in the first segment.
  EXPECT_TRUE(refused(s4, partial_hdr(s4), 40));
}

// net_vhost's receive flags (DPDK's convention) become tapswitch's, as a virtio-net header would.
TEST(VnetHdr, RxPartialChecksumFlagsMapped) {
  for (const bool v6 : {false, true}) {
    for (const bool udp : {false, true}) {
      PacketSpec s;
      s.ipv6 = v6;
      s.udp = udp;
      s.partial = true;
      s.vlan = 7;
      MbufPtr m(to_mbuf(packet_bytes(s)));
      m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
      ASSERT_TRUE(rx_offloads_to_mbuf(m.m)) << v6 << udp;
      EXPECT_EQ(m->ol_flags, (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
                                 (udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM));
      EXPECT_EQ(m->l2_len, 18u);
      EXPECT_EQ(m->l3_len, l3_len_of(s));
      expect_same(mbuf_to_vnet_hdr(m.m), partial_hdr(s));
    }
  }
}

TEST(VnetHdr, RxLroBecomesGso) {
  PacketSpec s;
  s.partial = true;
  s.payload = 6000;
  MbufPtr m(to_mbuf(packet_bytes(s)));
  m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_LRO;
  m->tso_segsz = 1448;
  ASSERT_TRUE(rx_offloads_to_mbuf(m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_EQ(m->tso_segsz, 1448u);
  const VnetHdr h = mbuf_to_vnet_hdr(m.m);
  EXPECT_EQ(h.gso_type, kVnetGsoTcpV4);
  EXPECT_EQ(h.gso_size, 1448u);
}

// DPDK's vhost library marks a guest's UFO packet (one UDP datagram for the device to send as
// IP fragments) as LRO; cutting it into datagrams of tso_segsz bytes, as for USO, would deliver
// pieces of one datagram as separate ones. Refused, like UFO from a tap.
TEST(VnetHdr, RxUdpLroIsUfoAndRefused) {
  for (const bool partial : {true, false}) {
    PacketSpec s;
    s.udp = true;
    s.partial = partial;
    s.payload = 4000;
    const std::vector<uint8_t> b = packet_bytes(s);
    MbufPtr m(to_mbuf(b));
    m->ol_flags = (partial ? RTE_MBUF_F_RX_L4_CKSUM_NONE : RTE_MBUF_F_RX_L4_CKSUM_GOOD) | RTE_MBUF_F_RX_LRO;
    m->tso_segsz = 1472;
    EXPECT_FALSE(rx_offloads_to_mbuf(m.m)) << "partial " << partial;
    EXPECT_EQ(bytes_of(m.m), b) << "a refused frame is left as it came";
  }
}

TEST(VnetHdr, RxLroWithACompleteChecksumGetsThePseudoHeaderSum) {
  PacketSpec partial, full;
  partial.partial = true;
  partial.payload = full.payload = 6000;
  const std::vector<uint8_t> want = packet_bytes(partial);
  MbufPtr m(to_mbuf(packet_bytes(full), 1 << 15));  // one segment
  m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_LRO;
  m->tso_segsz = 1448;
  ASSERT_TRUE(rx_offloads_to_mbuf(m.m));
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  const uint8_t* p = rte_pktmbuf_mtod(m.m, const uint8_t*);
  ASSERT_EQ(m->nb_segs, 1u);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), p));  // the checksum field now as the kernel's
}

TEST(VnetHdr, RxFlagsOfOtherFramesAreLeftAlone) {
  MbufPtr m(to_mbuf(packet_bytes({})));
  m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  ASSERT_TRUE(rx_offloads_to_mbuf(m.m));
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  // A partial checksum on something that is not TCP or UDP over IP cannot be described.
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  MbufPtr a(to_mbuf(arp));
  a->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
  EXPECT_FALSE(rx_offloads_to_mbuf(a.m));
}

}  // namespace
}  // namespace tapswitch::test
