// Regression cases of the offload path, each minimized from what offload_fuzz_test.cpp found:
// checksums over chains with odd-length segments (DPDK 22.11's rte_raw_cksum_mbuf), GSO frames
// whose headers fill the MTU or run past 256 bytes, single-buffer ports, an IPv4 IHL that
// disagrees with the headers, a guest's partial checksum without an IPv4 header.
#include "tests/unit/offload_fuzz_frames.h"

namespace tapswitch::test {
namespace {


class OffloadFuzzRegression : public ::testing::Test {
 protected:
  void SetUp() override { base_ = pool().in_use(); }
  void TearDown() override {
    for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(out_[i]);
    EXPECT_EQ(pool().in_use(), base_) << "mbufs leaked";
  }
  // A frame with the offloads of virtio-net header h, through prepare() for a port with o.
  unsigned run(const Bytes& b, uint32_t seg, const VnetHdr& h, const TxOffloads& o, uint32_t mtu) {
    rte_mbuf* m = to_mbuf(b, seg);
    EXPECT_TRUE(vnet_hdr_to_mbuf(h, m));
    n_ = egress_.prepare(m, o, mtu, out_, EgressOffload::kMaxSegments, counters_);
    return n_;
  }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<unsigned>(r)].get(); }

  Counter copies_;
  EgressOffload egress_{copies_, pool().get()};
  SwitchPortCounters counters_;
  rte_mbuf* out_[EgressOffload::kMaxSegments];
  unsigned n_ = 0, base_ = 0;
};

VnetHdr partial_of(const PacketSpec& s, uint8_t gso_type = kVnetGsoNone, uint16_t gso_size = 0) {
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = static_cast<uint16_t>(l2_len_of(s) + l3_len_of(s));
  h.csum_offset = s.udp ? 6 : 16;
  h.hdr_len = static_cast<uint16_t>(h.csum_start + l4_len_of(s));
  h.gso_type = gso_type;
  h.gso_size = gso_size;
  return h;
}

// DPDK 22.11's rte_raw_cksum_mbuf() loses the carries of a segment that starts at an odd offset
// of the summed range: completing a partial checksum over such a chain gave a wrong checksum.
TEST_F(OffloadFuzzRegression, PartialChecksumOverOddLengthSegments) {
  for (bool udp : {false, true}) {
    PacketSpec s;
    s.udp = udp;
    s.partial = true;
    s.payload = 1001;
    // 55-byte segments: the second starts 21 (TCP) or 21 (UDP) bytes into the L4 header.
    ASSERT_EQ(run(packet_bytes(s), 55, partial_of(s), {false, false, false, false, true}, 1500), 1u);
    EXPECT_TRUE(checksums_ok(bytes_of(out_[0]))) << "udp=" << udp;
    rte_pktmbuf_free(out_[0]);
    n_ = 0;
  }
}

TEST_F(OffloadFuzzRegression, GsoSegmentsOfAChainWithOddLengthSegments) {
  for (bool v6 : {false, true}) {
    PacketSpec s;
    s.ipv6 = v6;
    s.partial = true;
    s.payload = 4000;
    const uint8_t type = v6 ? kVnetGsoTcpV6 : kVnetGsoTcpV4;
    ASSERT_EQ(run(packet_bytes(s), 301, partial_of(s, type, 1448), {false, false, false, false, true}, 1500), 3u);
    for (unsigned i = 0; i < n_; ++i) EXPECT_TRUE(checksums_ok(bytes_of(out_[i]))) << "v6=" << v6 << " segment " << i;
    for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(out_[i]);
    n_ = 0;
  }
}

TEST_F(OffloadFuzzRegression, GenericChecksumOverOddLengthSegments) {
  // A partial checksum of another protocol (ICMP, whose pseudo-header sum is 0), completed on
  // receive by vnet_hdr_to_mbuf().
  PacketSpec s;
  s.payload = 1001;
  Bytes b = packet_bytes(s);
  b[23] = 1;  // IPv4 protocol: ICMP
  b[24] = b[25] = 0;
  put16(b, 24, static_cast<uint16_t>(~ones_sum(&b[14], 20)));
  b[34] = 8;
  b[36] = b[37] = 0;
  MbufPtr m(to_mbuf(b, 55));
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = 34;
  h.csum_offset = 2;
  ASSERT_TRUE(vnet_hdr_to_mbuf(h, m.m));
  const Bytes out = bytes_of(m.m);
  EXPECT_EQ(ones_sum(&out[34], out.size() - 34), 0xffff);
}


// A valid GSO frame whose headers alone are longer than a frame of the egress MTU cannot be cut
// to fit: oversize, not bad_offload (its offload fields match the frame).
TEST_F(OffloadFuzzRegression, GsoWhoseHeadersFillTheMtuIsOversize) {
  PacketSpec s;
  s.ipv6 = true;
  s.vlan = 5;
  s.tcp_options = 40;  // 18 + 40 + 60 = 118 bytes of headers, for frames of at most 86
  s.partial = true;
  s.payload = 500;
  EXPECT_EQ(run(packet_bytes(s), 2048, partial_of(s, kVnetGsoTcpV6, 100), {false, false, false, false, true}, 68), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 1u);
  EXPECT_EQ(drops(DropReason::bad_offload), 0u);
}

// Headers of more than 256 bytes (IPv6 extension headers) were refused by the segmenter, and
// a valid GSO frame counted as bad_offload.
TEST_F(OffloadFuzzRegression, GsoWithLongExtensionHeadersIsSegmented) {
  Shape s;
  s.v6 = s.partial = true;
  s.tags = 1;
  s.ext = {200};
  s.tcp_opts = 40;
  s.payload = 3000;
  s.seq = 77;
  ASSERT_EQ(s.hdrs(), 318u);
  VnetHdr h;
  h.flags = kVnetFNeedsCsum;
  h.csum_start = static_cast<uint16_t>(s.l2() + s.l3());
  h.csum_offset = 16;
  h.gso_type = kVnetGsoTcpV6;
  h.gso_size = 1000;
  ASSERT_EQ(run(build(s), 2048, h, {false, false, false, false, true}, 1500), 3u);
  for (unsigned i = 0; i < n_; ++i) {
    std::string why;
    EXPECT_TRUE(frame_ok(bytes_of(out_[i]), &why)) << "segment " << i << ": " << why;
    EXPECT_EQ(out_[i]->pkt_len, 1318u);
  }
}

// For a port without multi-segment transmit, segments were cut to the MTU alone; those longer
// than one mbuf (MTU 9000) were then each dropped as oversize by pass(): several drops counted
// for one frame, or some of its segments sent and others dropped. They are now cut to fit one
// mbuf, and a TCP GSO frame the port could take but not in one buffer is cut too.
TEST_F(OffloadFuzzRegression, GsoForASingleBufferPortIsCutToOneBuffer) {
  for (bool tso : {false, true}) {
    PacketSpec s;
    s.partial = true;
    s.payload = 20000;
    const TxOffloads single{true, tso, tso, tso, false};
    ASSERT_EQ(run(packet_bytes(s), 2048, partial_of(s, kVnetGsoTcpV4, 8948), single, 9000), 11u) << "tso=" << tso;
    EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::oversize)].get(), 0u);
    uint32_t payload = 0;
    for (unsigned i = 0; i < n_; ++i) {
      EXPECT_EQ(out_[i]->nb_segs, 1u);
      EXPECT_LE(out_[i]->pkt_len, 2048u);
      EXPECT_TRUE(checksums_ok(bytes_of(out_[i])));
      payload += out_[i]->pkt_len - 54;
      rte_pktmbuf_free(out_[i]);
    }
    n_ = 0;
    EXPECT_EQ(payload, 20000u);
  }
}

TEST_F(OffloadFuzzRegression, UsoTooLongForASingleBufferPortIsOneDrop) {
  PacketSpec s;
  s.udp = s.partial = true;
  s.payload = 20000;
  EXPECT_EQ(run(packet_bytes(s), 2048, partial_of(s, kVnetGsoUdpL4, 8000), {true, false, false, false, false}, 9000), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 1u);
}

// An IPv4 GSO frame whose IHL (60 bytes) says more than its csum_start (a 20-byte IPv4 header):
// the segments' IPv4 header checksum was computed over IHL * 4 bytes, past the segment's
// copied headers (librte_gso's header mbuf holds exactly them), so it summed whatever a
// previous frame had left in that buffer. ASan cannot see it (mempool memory). The frames that
// come out must not depend on stale buffer contents; such a frame is refused (bad_offload).
TEST_F(OffloadFuzzRegression, Ipv4GsoWithAnIhlBeyondItsHeadersReadsNoStaleBytes) {
  PktPool direct("fuzz-stale", 64, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  Counter copies;
  EgressOffload egress(copies, direct.get());
  for (bool udp : {false, true}) {
    PacketSpec s;
    s.udp = udp;
    s.partial = true;
    s.payload = 100;
    Bytes b = packet_bytes(s);
    b[14] = 0x4f;  // IHL 15; the IPv4 header checksum is left as it was (wrong): the frame is corrupt
    std::vector<Bytes> outs;
    uint64_t bad = 0;
    for (uint8_t poison : {0x00, 0xa5}) {
      // Every free buffer of the pool filled with `poison`.
      std::vector<rte_mbuf*> all(rte_mempool_avail_count(direct.get()));
      ASSERT_EQ(rte_pktmbuf_alloc_bulk(direct.get(), all.data(), static_cast<unsigned>(all.size())), 0);
      for (rte_mbuf* x : all) std::memset(x->buf_addr, poison, x->buf_len);
      rte_pktmbuf_free_bulk(all.data(), static_cast<unsigned>(all.size()));
      rte_mbuf* m = to_mbuf(b);
      ASSERT_TRUE(vnet_hdr_to_mbuf(partial_of(s, udp ? kVnetGsoUdpL4 : kVnetGsoTcpV4, 10), m));
      SwitchPortCounters c;
      const unsigned k = egress.prepare(m, {false, false, false, false, true}, 1500, out_, EgressOffload::kMaxSegments, c);
      bad += c.drops[static_cast<unsigned>(DropReason::bad_offload)].get();
      Bytes all_out;
      for (unsigned i = 0; i < k; ++i) {
        const Bytes o = bytes_of(out_[i]);
        all_out.insert(all_out.end(), o.begin(), o.end());
        rte_pktmbuf_free(out_[i]);
      }
      outs.push_back(all_out);
    }
    EXPECT_EQ(outs[0], outs[1]) << "udp=" << udp << ": output depends on stale buffer bytes";
    EXPECT_EQ(bad, 2u) << "udp=" << udp;
  }
}

// A guest's frame with a partial checksum and an IPv4 IHL under 5 (no IPv4 header at all) was
// taken: rx_offloads_to_mbuf() put csum_start inside the IPv4 header, vnet_hdr_to_mbuf() then
// completed a "checksum" there generically and wrote it into the frame's TCP header, and the
// frame went on. The contract (ports/vnet_hdr.h) is to refuse what is not TCP or UDP over IP.
TEST_F(OffloadFuzzRegression, RxPartialChecksumWithoutAnIpv4HeaderIsRefused) {
  for (uint8_t ihl : {0, 3, 4}) {
    PacketSpec s;
    s.partial = true;
    Bytes b = packet_bytes(s);
    b[14] = static_cast<uint8_t>(0x40 | ihl);
    MbufPtr m(to_mbuf(b));
    m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
    EXPECT_FALSE(rx_offloads_to_mbuf(m.m)) << "IHL " << unsigned{ihl};
    EXPECT_EQ(bytes_of(m.m), b) << "IHL " << unsigned{ihl};
    MbufPtr lro(to_mbuf(b));
    lro->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_LRO;
    lro->tso_segsz = 1000;
    EXPECT_FALSE(rx_offloads_to_mbuf(lro.m)) << "IHL " << unsigned{ihl};
  }
}


}  // namespace
}  // namespace tapswitch::test
