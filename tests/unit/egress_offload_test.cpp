// Software segmentation and checksums for ports that cannot take a frame's offloads, and the
// MTU rule on egress.
#include <gtest/gtest.h>

#include <rte_mbuf.h>

#include <vector>

#include "switch/egress_offload.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/frames.h"
#include "tests/unit/packets.h"

namespace tapswitch::test {
namespace {

// A GSO frame (or, with mss 0, a frame with a partial checksum) as a vnet tap hands it over.
rte_mbuf* offload_mbuf(PacketSpec s, uint16_t mss, uint32_t seg = 2048) {
  s.partial = true;
  rte_mbuf* m = to_mbuf(packet_bytes(s), seg);
  m->l2_len = l2_len_of(s);
  m->l3_len = l3_len_of(s);
  m->l4_len = l4_len_of(s);
  m->ol_flags = (s.ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
                (s.udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
  if (mss) {
    m->ol_flags |= s.udp ? RTE_MBUF_F_TX_UDP_SEG : RTE_MBUF_F_TX_TCP_SEG;
    m->tso_segsz = mss;
  }
  return m;
}

class EgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    baseline_ = pool().in_use();
    big_baseline_ = big_pool().in_use();
  }
  void TearDown() override {
    free_out();
    EXPECT_EQ(pool().in_use(), baseline_) << "mbufs leaked";
    EXPECT_EQ(big_pool().in_use(), big_baseline_) << "big mbufs leaked";
  }
  unsigned run(rte_mbuf* m, const TxOffloads& o, uint32_t mtu = 1500) {
    free_out();
    n_ = egress_.prepare(m, o, mtu, out_, EgressOffload::kMaxSegments, counters_);
    return n_;
  }
  void free_out() {
    for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(out_[i]);
    n_ = 0;
  }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<unsigned>(r)].get(); }

  // Every output frame: checksums right, no offload flags, at most max_len bytes; their L4
  // payloads, in order, rebuild the input's.
  void expect_segments_of(const PacketSpec& s, uint32_t max_len, uint32_t max_payload) {
    const std::vector<uint8_t> orig = packet_bytes(s);
    const uint32_t hdrs = l2_len_of(s) + l3_len_of(s) + l4_len_of(s);
    std::vector<uint8_t> payload;
    for (unsigned i = 0; i < n_; ++i) {
      std::vector<uint8_t> b = bytes_of(out_[i]);
      SCOPED_TRACE("segment " + std::to_string(i));
      EXPECT_TRUE(checksums_ok(b));
      EXPECT_LE(b.size(), max_len);
      EXPECT_LE(b.size() - hdrs, max_payload);
      EXPECT_EQ(out_[i]->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG), 0u);
      if (!s.udp) {
        const size_t t = l2_len_of(s) + l3_len_of(s);
        const uint32_t seq = (b[t + 4] << 24) | (b[t + 5] << 16) | (b[t + 6] << 8) | b[t + 7];
        EXPECT_EQ(seq, s.seq + payload.size());
        EXPECT_EQ((b[t + 13] & 0x08) != 0, i + 1 == n_) << "PSH only on the last segment";
      }
      payload.insert(payload.end(), b.begin() + hdrs, b.end());
    }
    EXPECT_EQ(payload, std::vector<uint8_t>(orig.begin() + hdrs, orig.end()));
  }

  Counter copies_;
  EgressOffload egress_{copies_, pool().get()};
  SwitchPortCounters counters_;
  rte_mbuf* out_[EgressOffload::kMaxSegments];
  unsigned n_ = 0;
  unsigned baseline_ = 0, big_baseline_ = 0;
};

const TxOffloads kNone{false, false, false, false, true};
const TxOffloads kAll{true, true, true, true, true};

TEST_F(EgressTest, Tcp4GsoIsSegmentedForAPortWithout) {
  PacketSpec s;
  s.payload = 20000;
  ASSERT_EQ(run(offload_mbuf(s, 1448), kNone), 14u);
  expect_segments_of(s, 1514, 1448);
}

TEST_F(EgressTest, Tcp4GsoFromBigBuffersIsSegmented) {
  PacketSpec s;
  s.payload = 60000;
  ASSERT_EQ(run(offload_mbuf(s, 1448, 30000), kNone), 42u);  // 60000 / 1448, rounded up
  expect_segments_of(s, 1514, 1448);
}

TEST_F(EgressTest, Tcp6GsoTaggedIsSegmented) {
  PacketSpec s;
  s.ipv6 = true;
  s.vlan = 42;
  s.tcp_options = 12;
  s.payload = 10000;
  ASSERT_EQ(run(offload_mbuf(s, 1428, 4000), kNone), 8u);
  expect_segments_of(s, 1518, 1428);
}

TEST_F(EgressTest, UsoBecomesDatagramsOfItsSegmentSize) {
  PacketSpec s;
  s.udp = true;
  s.payload = 6000;
  ASSERT_EQ(run(offload_mbuf(s, 1200), kNone), 5u);
  expect_segments_of(s, 1514, 1200);
  for (unsigned i = 0; i < n_; ++i) EXPECT_EQ(out_[i]->pkt_len, 14u + 20 + 8 + 1200);
}

TEST_F(EgressTest, Uso6LastDatagramIsShorter) {
  PacketSpec s;
  s.udp = s.ipv6 = true;
  s.payload = 2500;
  ASSERT_EQ(run(offload_mbuf(s, 1000), kNone), 3u);
  expect_segments_of(s, 1514, 1000);
}

TEST_F(EgressTest, GsoPassesWholeToAPortThatTakesIt) {
  PacketSpec s;
  s.payload = 20000;
  rte_mbuf* m = offload_mbuf(s, 1448);
  ASSERT_EQ(run(m, kAll), 1u);
  EXPECT_EQ(out_[0], m);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
}

TEST_F(EgressTest, GsoIsCutToASmallerEgressMtuEvenWithTso) {
  PacketSpec s;
  s.payload = 9000;
  ASSERT_EQ(run(offload_mbuf(s, 1448), kAll, 1000), 10u);  // 960 bytes of payload each
  expect_segments_of(s, 1014, 960);
}

TEST_F(EgressTest, UsoLargerThanTheMtuIsDropped) {
  PacketSpec s;
  s.udp = true;
  s.payload = 6000;
  EXPECT_EQ(run(offload_mbuf(s, 1400), kAll, 1000), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 1u);
}

TEST_F(EgressTest, TooManySegmentsIsOversize) {
  PacketSpec s;
  s.payload = 60000;
  EXPECT_EQ(run(offload_mbuf(s, 1448, 30000), kNone, 200), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 1u);
}

TEST_F(EgressTest, SingleSegmentGsoGetsItsChecksumOnly) {
  PacketSpec s;
  s.payload = 1000;
  rte_mbuf* m = offload_mbuf(s, 1448);
  ASSERT_EQ(run(m, kNone), 1u);
  EXPECT_EQ(out_[0], m);
  EXPECT_TRUE(checksums_ok(bytes_of(m)));
}

TEST_F(EgressTest, PartialChecksumIsCompletedInPlace) {
  for (bool v6 : {false, true}) {
    for (bool udp : {false, true}) {
      PacketSpec s;
      s.ipv6 = v6;
      s.udp = udp;
      s.payload = 1001;  // odd
      rte_mbuf* m = offload_mbuf(s, 0, 500);
      ASSERT_EQ(run(m, kNone), 1u);
      EXPECT_EQ(out_[0], m);
      EXPECT_TRUE(checksums_ok(bytes_of(m))) << "v6=" << v6 << " udp=" << udp;
      EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
    }
  }
}

TEST_F(EgressTest, PartialChecksumOfASharedFrameIsCompletedInACopy) {
  PacketSpec s;
  s.payload = 300;
  rte_mbuf* m = offload_mbuf(s, 0);
  rte_mbuf_refcnt_update(m, 1);  // also on its way to another port
  const std::vector<uint8_t> before = bytes_of(m);
  ASSERT_EQ(run(m, kNone), 1u);
  EXPECT_NE(out_[0], m);
  EXPECT_TRUE(checksums_ok(bytes_of(out_[0])));
  EXPECT_EQ(bytes_of(m), before);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
  rte_pktmbuf_free(m);
}

TEST_F(EgressTest, PartialChecksumPassesToAPortThatCompletesIt) {
  rte_mbuf* m = offload_mbuf({}, 0);
  ASSERT_EQ(run(m, kAll), 1u);
  EXPECT_EQ(out_[0], m);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
}

TEST_F(EgressTest, OversizeFramesAreDroppedNotTruncated) {
  const Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b");
  EXPECT_EQ(run(make_frame(b, a, 1514), kNone), 1u);
  EXPECT_EQ(run(make_frame(b, a, 1515), kNone), 0u);
  EXPECT_EQ(run(make_frame(b, a, 1518, 5), kNone), 1u);  // one 802.1Q tag allowed on top
  EXPECT_EQ(run(make_frame(b, a, 1519, 5), kNone), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 2u);
  EXPECT_EQ(run(make_frame(b, a, 1515), kNone, 9000), 1u);
}

TEST_F(EgressTest, ChainsAreLinearizedForSingleSegmentPorts) {
  TxOffloads single = kNone;
  single.multi_seg = false;
  PacketSpec s;
  s.payload = 1400;
  const std::vector<uint8_t> bytes = packet_bytes(s);
  rte_mbuf* m = to_mbuf(bytes, 600);
  ASSERT_EQ(m->nb_segs, 3);
  ASSERT_EQ(run(m, single), 1u);
  EXPECT_EQ(out_[0]->nb_segs, 1);
  EXPECT_EQ(bytes_of(out_[0]), bytes);
}

TEST_F(EgressTest, AChainLongerThanOneBufferIsOversizeForSingleSegmentPorts) {
  // (Not "no mbuf": the pool is not empty, the port just cannot take such a frame.)
  TxOffloads single = kNone;
  single.multi_seg = false;
  PacketSpec s;
  s.payload = 4000;
  rte_mbuf* m = to_mbuf(packet_bytes(s), 1000);
  ASSERT_GT(m->pkt_len, rte_pktmbuf_data_room_size(pool().get()) - RTE_PKTMBUF_HEADROOM);
  EXPECT_EQ(run(m, single, 9000), 0u);
  EXPECT_EQ(drops(DropReason::oversize), 1u);
  EXPECT_EQ(drops(DropReason::no_mbuf), 0u);
}

TEST_F(EgressTest, GsoSegmentsAreLinearizedForSingleSegmentPorts) {
  TxOffloads single = kNone;
  single.multi_seg = false;
  PacketSpec s;
  s.payload = 5000;
  ASSERT_EQ(run(offload_mbuf(s, 1448), single), 4u);
  for (unsigned i = 0; i < n_; ++i) EXPECT_EQ(out_[i]->nb_segs, 1);
  expect_segments_of(s, 1514, 1448);
}

TEST_F(EgressTest, RulesSendOnlyWhatNeedsWork) {
  const EgressRules none = EgressOffload::rules(kNone), all = EgressOffload::rules(kAll);
  rte_mbuf* plain = make_frame(mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a"), 100);
  rte_mbuf* csum = offload_mbuf({}, 0);
  EXPECT_FALSE(EgressOffload::needs_work(plain, none, 1514));
  EXPECT_TRUE(EgressOffload::needs_work(csum, none, 1514));
  EXPECT_FALSE(EgressOffload::needs_work(csum, all, 1514));
  EXPECT_TRUE(EgressOffload::needs_work(plain, all, 99));
  rte_pktmbuf_free(plain);
  rte_pktmbuf_free(csum);
}

}  // namespace
}  // namespace tapswitch::test
