// The Forwarder's egress hook: frames meet each egress port's offloads and MTU on the way out.
#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/forwarder_rig.h"
#include "tests/unit/frames.h"
#include "tests/unit/packets.h"

namespace tapswitch::test {
namespace {

const TxOffloads kNone{false, false, false, false, true};
const TxOffloads kAll{true, true, true, true, true};

// A frame as a vnet tap hands it over: partial checksum, and GSO when mss != 0.
rte_mbuf* offloaded(PacketSpec s, uint16_t mss) {
  s.partial = true;
  rte_mbuf* m = to_mbuf(packet_bytes(s));
  m->l2_len = l2_len_of(s);
  m->l3_len = l3_len_of(s);
  m->l4_len = l4_len_of(s);
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
  if (mss) {
    m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
    m->tso_segsz = mss;
  }
  return m;
}

class ForwarderEgressTest : public ForwarderRig {
 protected:
  void SetUp() override {
    ForwarderRig::SetUp();
    make_ports(3);
    ports_[0]->set_caps(kAll);
    ports_[1]->set_caps(kNone);
    ports_[2]->set_caps(kAll);
    attach_ports();
  }
  void rx(uint16_t in, rte_mbuf* m) { switch_frames(in, {m}); }
};

TEST_F(ForwarderEgressTest, FloodedGsoFrameIsCutOnlyWhereNeeded) {
  PacketSpec s;
  s.payload = 20000;
  rte_mbuf* m = offloaded(s, 1448);
  rx(0, m);
  ASSERT_EQ(ports_[2]->tx.size(), 1u);
  EXPECT_EQ(ports_[2]->tx[0], m) << "a port with TSO gets the frame itself";
  ASSERT_EQ(ports_[1]->tx.size(), 14u);
  uint64_t bytes = 0;
  for (rte_mbuf* seg : ports_[1]->tx) {
    EXPECT_TRUE(checksums_ok(bytes_of(seg)));
    EXPECT_LE(seg->pkt_len, 1514u);
    bytes += seg->pkt_len;
  }
  EXPECT_EQ(out(1).tx_packets.get(), 14u);
  EXPECT_EQ(out(1).tx_bytes.get(), bytes);
  EXPECT_EQ(out(2).tx_packets.get(), 1u);
  EXPECT_EQ(counters_->copies.get(), 14u) << "a shared frame is segmented by copying";
}

TEST_F(ForwarderEgressTest, SegmentsThePortDoesNotTakeAreCountedAsTxFull) {
  ports_[1]->tx_room = 5;
  PacketSpec s;
  s.payload = 20000;
  rx(1, make_frame(kBroadcast, mac("02:00:00:00:00:02")));  // the packets' destination, on p1
  fdb_.process_learning();
  for (auto& p : ports_) p->clear_tx();
  const uint64_t before = out(1).tx_packets.get();
  rx(0, offloaded(s, 1448));
  EXPECT_EQ(ports_[1]->tx.size(), 5u);
  EXPECT_EQ(out(1).tx_packets.get() - before, 5u);
  EXPECT_EQ(drops(1, DropReason::tx_full), 9u);
  EXPECT_EQ(ports_[2]->tx.size(), 0u);
  EXPECT_EQ(counters_->copies.get(), 0u) << "an unshared frame is segmented by librte_gso";
}

TEST_F(ForwarderEgressTest, EgressMtuDecidesPerPort) {
  ports_[2]->set_caps(kAll, 9000);
  std::vector<uint8_t> f(3000, 0x41);  // broadcast, from 02:00:00:00:00:0a
  std::fill(f.begin(), f.begin() + 6, 0xff);
  const Mac a = mac("02:00:00:00:00:0a");
  std::copy(a.begin(), a.end(), f.begin() + 6);
  rx(0, to_mbuf(f));
  EXPECT_EQ(ports_[1]->tx.size(), 0u);
  EXPECT_EQ(drops(1, DropReason::oversize), 1u);
  ASSERT_EQ(ports_[2]->tx.size(), 1u);
  EXPECT_EQ(ports_[2]->tx[0]->pkt_len, 3000u);
}

TEST_F(ForwarderEgressTest, AFloodedChainSurvivesItsDropAtOnePort) {
  ports_[2]->set_caps(kAll, 9000);
  std::vector<uint8_t> f(3000);
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i * 13);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  rte_mbuf* m = to_mbuf(f);  // two segments
  ASSERT_EQ(m->nb_segs, 2);
  rx(0, m);
  EXPECT_EQ(drops(1, DropReason::oversize), 1u);
  ASSERT_EQ(ports_[2]->tx.size(), 1u);
  EXPECT_EQ(rte_mbuf_refcnt_read(m->next), 1) << "p1's drop freed the second segment under p2";
  std::vector<rte_mbuf*> reuse;  // whatever was freed too early would be handed out again here
  for (int i = 0; i < 64; ++i) reuse.push_back(make_frame(kBroadcast, mac("02:00:00:00:00:0c"), 1000));
  EXPECT_EQ(bytes_of(ports_[2]->tx[0]), f);
  for (rte_mbuf* r : reuse) rte_pktmbuf_free(r);
}

TEST_F(ForwarderEgressTest, SharedPartialChecksumIsCompletedInACopy) {
  PacketSpec s;
  s.payload = 700;
  rte_mbuf* m = offloaded(s, 0);
  rx(0, m);
  ASSERT_EQ(ports_[1]->tx.size(), 1u);
  ASSERT_EQ(ports_[2]->tx.size(), 1u);
  EXPECT_NE(ports_[1]->tx[0], m);
  EXPECT_TRUE(checksums_ok(bytes_of(ports_[1]->tx[0])));
  EXPECT_EQ(ports_[2]->tx[0], m);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) << "the other port still gets the partial checksum";
  EXPECT_EQ(counters_->copies.get(), 1u);
}

}  // namespace
}  // namespace tapswitch::test
