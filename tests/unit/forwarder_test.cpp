// Forwarding decisions over fake ports, with the real FDB.
#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/forwarder_rig.h"
#include "tests/unit/frames.h"

namespace tapswitch::test {
namespace {

const Mac A = mac("02:00:00:00:00:0a");
const Mac B = mac("02:00:00:00:00:0b");
const Mac C = mac("02:00:00:00:00:0c");

class ForwarderTest : public ForwarderRig {
 protected:
  void make_ports(unsigned n) {
    ForwarderRig::make_ports(n);
    attach_ports();
  }
  // Receives frames on port `in`, switches them and applies the learning they asked for.
  void rx(uint16_t in, std::vector<rte_mbuf*> frames) {
    switch_frames(in, std::move(frames));
    fdb_.process_learning();
  }
};

TEST_F(ForwarderTest, UnknownUnicastFloodsToEveryOtherPort) {
  make_ports(4);
  rx(1, {make_frame(B, A)});
  EXPECT_EQ(tx_count(0), 1u);
  EXPECT_EQ(tx_count(1), 0u);
  EXPECT_EQ(tx_count(2), 1u);
  EXPECT_EQ(tx_count(3), 1u);
  EXPECT_EQ(counters_->ports[1].flooded.get(), 1u);
}

TEST_F(ForwarderTest, FloodSharesOneMbufWithoutCopying) {
  make_ports(3);
  rte_mbuf* f = make_frame(kBroadcast, A);
  rx(0, {f});
  ASSERT_EQ(tx_count(1), 1u);
  ASSERT_EQ(tx_count(2), 1u);
  EXPECT_EQ(ports_[1]->tx[0], f);
  EXPECT_EQ(ports_[2]->tx[0], f);
  EXPECT_EQ(rte_mbuf_refcnt_read(f), 2);
}

TEST_F(ForwarderTest, KnownUnicastGoesToExactlyOnePort) {
  make_ports(4);
  rx(2, {make_frame(kBroadcast, B)});  // B learned on port 2
  clear_tx();
  rx(0, {make_frame(B, A)});
  EXPECT_EQ(tx_count(2), 1u);
  EXPECT_EQ(tx_count(1) + tx_count(3) + tx_count(0), 0u);
  EXPECT_EQ(bytes_of(ports_[2]->tx[0]).size(), 60u);
}

TEST_F(ForwarderTest, FloodingStopsOnceTheDestinationIsLearned) {
  make_ports(3);
  rx(0, {make_frame(B, A)});  // unknown B: flooded; A learned on 0
  EXPECT_EQ(tx_count(1) + tx_count(2), 2u);
  clear_tx();
  rx(1, {make_frame(A, B)});  // known A: to port 0 only; B learned on 1
  EXPECT_EQ(tx_count(0), 1u);
  EXPECT_EQ(tx_count(2), 0u);
  clear_tx();
  rx(0, {make_frame(B, A)});  // now known
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 0u);
}

TEST_F(ForwarderTest, DestinationOnTheIngressPortIsDropped) {
  make_ports(3);
  rx(0, {make_frame(kBroadcast, B)});  // B on port 0
  clear_tx();
  rx(0, {make_frame(B, A)});
  EXPECT_EQ(tx_count(0) + tx_count(1) + tx_count(2), 0u);
  EXPECT_EQ(drops(0, DropReason::same_port), 1u);
}

TEST_F(ForwarderTest, RuntsAreDroppedAndCounted) {
  make_ports(2);
  rx(0, {make_raw(std::vector<uint8_t>(13, 0xff)), make_raw({}), make_frame(kBroadcast, A)});
  EXPECT_EQ(drops(0, DropReason::runt), 2u);
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(counters_->ports[0].rx_packets.get(), 3u);
}

TEST_F(ForwarderTest, AFourteenByteFrameIsNotARunt) {
  make_ports(2);
  std::vector<uint8_t> f(14, 0);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  f[6] = 0x02;
  f[11] = 0x01;
  rx(0, {make_raw(f)});
  EXPECT_EQ(drops(0, DropReason::runt), 0u);
  EXPECT_EQ(tx_count(1), 1u);
}

TEST_F(ForwarderTest, AFloodWithNoOtherPortIsDroppedAsNoDest) {
  make_ports(1);
  rx(0, {make_frame(kBroadcast, A)});
  EXPECT_EQ(drops(0, DropReason::no_dest), 1u);
}

TEST_F(ForwarderTest, GroupAndZeroSourcesAreNeverLearned) {
  make_ports(3);
  rx(0, {make_frame(kBroadcast, mac("01:00:5e:00:00:01")), make_frame(kBroadcast, kBroadcast),
         make_frame(kBroadcast, mac("00:00:00:00:00:00"))});
  EXPECT_EQ(fdb_.stats().entries, 0u);
  EXPECT_EQ(fdb_.stats().learned, 0u);
}

TEST_F(ForwarderTest, LearningIsPerVlan) {
  make_ports(3);
  rx(1, {make_frame(kBroadcast, B, 64, 10)});  // B on port 1, VLAN 10
  clear_tx();
  rx(0, {make_frame(B, A, 64, 10)});
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 0u);
  clear_tx();
  rx(0, {make_frame(B, A, 64, 20)});  // same MAC, VLAN 20: unknown, flooded
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 1u);
}

TEST_F(ForwarderTest, AMovedMacFollowsItsHost) {
  make_ports(3);
  rx(1, {make_frame(kBroadcast, B)});
  rx(2, {make_frame(kBroadcast, B)});  // B moved to 2
  clear_tx();
  rx(0, {make_frame(B, A)});
  EXPECT_EQ(tx_count(2), 1u);
  EXPECT_EQ(tx_count(1), 0u);
  EXPECT_EQ(fdb_.stats().moved, 1u);
}

TEST_F(ForwarderTest, BeforeTheWriterRunsFramesAreFlooded) {
  make_ports(3);
  std::vector<rte_mbuf*> f = {make_frame(kBroadcast, B)};
  fwd_->process(1, f.data(), 1);  // B requested, not applied
  fwd_->flush();
  clear_tx();
  std::vector<rte_mbuf*> g = {make_frame(B, A)};
  fwd_->process(0, g.data(), 1);
  fwd_->flush();
  EXPECT_EQ(tx_count(1) + tx_count(2), 2u);  // still unknown: flooded
  fdb_.process_learning();
}

TEST_F(ForwarderTest, ARecentlyRefreshedSourceAsksNothing) {
  make_ports(2);
  rx(0, {make_frame(kBroadcast, A)});
  const uint64_t learned = fdb_.stats().learned;
  std::vector<rte_mbuf*> f;
  for (int i = 0; i < 8; ++i) f.push_back(make_frame(kBroadcast, A));
  fwd_->process(0, f.data(), 8);
  fwd_->flush();
  // Nothing queued: the entry is on this port and fresh.
  EXPECT_EQ(fdb_.process_learning(), 0u);
  EXPECT_EQ(fdb_.stats().learned, learned);
}

TEST_F(ForwarderTest, AFullEgressDropsCountsAndFreesWhatItRefused) {
  make_ports(3);
  ports_[2]->tx_room = 1;
  std::vector<rte_mbuf*> f;
  for (int i = 0; i < 5; ++i) f.push_back(make_frame(kBroadcast, A));
  rx(0, f);
  EXPECT_EQ(tx_count(1), 5u);
  EXPECT_EQ(tx_count(2), 1u);
  EXPECT_EQ(drops(2, DropReason::tx_full), 4u);
  EXPECT_EQ(counters_->ports[2].tx_packets.get(), 1u);
  EXPECT_EQ(counters_->ports[1].tx_packets.get(), 5u);
  // TearDown checks that the refused references were released.
}

TEST_F(ForwarderTest, AFullBurstToOnePortIsSentWhole) {
  make_ports(2);
  rx(1, {make_frame(kBroadcast, B)});
  clear_tx();
  std::vector<rte_mbuf*> f;
  for (uint32_t i = 0; i < kBurst; ++i) f.push_back(make_frame(B, A, 60, -1, i));
  rx(0, f);
  ASSERT_EQ(tx_count(1), kBurst);
  for (uint32_t i = 0; i < kBurst; ++i) {
    auto b = bytes_of(ports_[1]->tx[i]);
    uint32_t seq;
    std::memcpy(&seq, b.data() + 14, 4);
    EXPECT_EQ(seq, i) << "frames reordered";
  }
}

// A ping reply batched after a burst of big frames to another port leaves first: small
// batches are flushed before bulk ones, and each port keeps its own order.
TEST_F(ForwarderTest, SmallBatchesAreSentBeforeBulkOnes) {
  make_ports(3);
  rx(1, {make_frame(kBroadcast, B)});
  rx(2, {make_frame(kBroadcast, C)});
  clear_tx();
  std::vector<std::string> sends;
  for (auto& p : ports_) p->sends = &sends;
  std::vector<rte_mbuf*> f;
  for (uint32_t i = 0; i < 12; ++i) f.push_back(make_frame(B, A, 1514, -1, i));  // 18 KB to p1
  f.push_back(make_frame(C, A, 98, -1, 100));                                    // then p2
  f.push_back(make_frame(B, A, 1514, -1, 12));
  rx(0, f);
  EXPECT_EQ(sends, (std::vector<std::string>{"p2", "p1"}));
  ASSERT_EQ(tx_count(1), 13u);
  for (uint32_t i = 0; i < 13; ++i) {
    uint32_t seq;
    std::memcpy(&seq, bytes_of(ports_[1]->tx[i]).data() + 14, 4);
    EXPECT_EQ(seq, i) << "frames to p1 reordered";
  }
  EXPECT_EQ(tx_count(2), 1u);
  // Below the threshold, the order is that of the first frames.
  sends.clear();
  rx(0, {make_frame(B, A, 60), make_frame(C, A, 60)});
  EXPECT_EQ(sends, (std::vector<std::string>{"p1", "p2"}));
  for (auto& p : ports_) p->sends = nullptr;
}

TEST_F(ForwarderTest, FramesToARemovedPortFloodInstead) {
  make_ports(3);
  rx(2, {make_frame(kBroadcast, B)});
  // Port 2 leaves the worker's view; its FDB entry may linger until flushed.
  fwd_->set_ports({{0, ports_[0].get(), 0}, {1, ports_[1].get(), 0}});
  clear_tx();
  rx(0, {make_frame(B, A)});
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 0u);
}

// A static entry pins its MAC to a port: while that port is out of the data path (its
// interface gone), frames to the MAC are dropped and counted, not flooded to everyone else.
TEST_F(ForwarderTest, FramesToAStaticMacOnARemovedPortAreDropped) {
  make_ports(3);
  ASSERT_EQ(fdb_.add_static(FdbKey::make(0, B.data()), 2), FdbAdd::added);
  fwd_->set_ports({{0, ports_[0].get(), 0}, {1, ports_[1].get(), 0}});
  rx(0, {make_frame(B, A), make_frame(B, A)});
  EXPECT_EQ(tx_count(1), 0u);
  EXPECT_EQ(tx_count(2), 0u);
  EXPECT_EQ(drops(0, DropReason::dest_gone), 2u);
  EXPECT_EQ(counters_->ports[0].flooded.get(), 0u);
}

}  // namespace
}  // namespace tapswitch::test

namespace tapswitch::test {
namespace {

TEST_F(ForwarderTest, LinkLocalFramesAreFilteredAndCounted) {
  make_ports(3);
  rx(0, {make_frame(mac("01:80:c2:00:00:0e"), A), make_frame(mac("01:80:c2:00:00:00"), A)});
  EXPECT_EQ(drops(0, DropReason::filtered), 1u);
  EXPECT_EQ(tx_count(1), 1u);  // only the STP frame
  EXPECT_EQ(tx_count(2), 1u);
}

}  // namespace
}  // namespace tapswitch::test
