// The FDB as the forwarder uses it: static entries, conflicts, lazy refresh, aging and
// flushing seen from the data path.
#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/forwarder_rig.h"
#include "tests/unit/frames.h"

namespace tapswitch::test {
namespace {

const Mac A = mac("02:00:00:00:00:0a");
const Mac B = mac("02:00:00:00:00:0b");

FdbKey key_of(const Mac& m, uint16_t vlan = 0) { return FdbKey::make(vlan, m.data()); }

class FdbForwarderTest : public ForwarderRig {
 protected:
  void SetUp() override {
    ForwarderRig::SetUp();
    make_ports(3);
    attach_ports();
  }
  // Switches the frames; returns the learn requests they produced (applied right after).
  unsigned rx(uint16_t in, std::vector<rte_mbuf*> frames) {
    switch_frames(in, std::move(frames));
    return fdb_.process_learning();
  }
};

TEST_F(FdbForwarderTest, AStaticEntryIsNotRelearnedAndASpoofIsCounted) {
  fdb_.add_static(key_of(A), 1);
  EXPECT_EQ(rx(2, {make_frame(B, A), make_frame(B, A)}), 0u) << "no learn request for a static MAC";
  EXPECT_EQ(fdb_.stats().static_conflicts, 2u);
  clear_tx();
  rx(0, {make_frame(A, B)});
  EXPECT_EQ(tx_count(1), 1u) << "frames to the static MAC still go to its port";
  EXPECT_EQ(tx_count(2), 0u);
  EXPECT_EQ(rx(1, {make_frame(B, A)}), 0u) << "not even from its own port";
  EXPECT_EQ(fdb_.stats().static_conflicts, 2u);
}

// A hit writes nothing shared: a source already learned on this port asks the writer again
// only once its last_seen is a second old.
TEST_F(FdbForwarderTest, ABusySourceIsRefreshedAtMostOncePerSecond) {
  EXPECT_EQ(rx(0, {make_frame(B, A)}), 1u);
  const uint32_t t0 = Fdb::now();
  unsigned requests = 0;
  for (int i = 0; i < 200; ++i) requests += rx(0, {make_frame(B, A), make_frame(B, A), make_frame(B, A)});
  const uint32_t t1 = Fdb::now();
  EXPECT_LE(requests, t1 - t0 + 1);
}

TEST_F(FdbForwarderTest, ALearnedDestinationIsUnicastUntilAgedThenFloods) {
  rx(1, {make_frame(B, A)});
  clear_tx();
  rx(0, {make_frame(A, B)});
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 0u);
  fdb_.age(Fdb::now() + 301, true);
  clear_tx();
  rx(0, {make_frame(A, B)});
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 1u) << "an aged destination floods again";
}

TEST_F(FdbForwarderTest, AFlushedPortsHostsFloodAgain) {
  rx(1, {make_frame(B, A)});
  fdb_.flush_port(1);
  clear_tx();
  rx(0, {make_frame(A, B)});
  EXPECT_EQ(tx_count(1), 1u);
  EXPECT_EQ(tx_count(2), 1u);
}

TEST_F(FdbForwarderTest, AMoveIsFollowedAndCounted) {
  rx(1, {make_frame(B, A)});
  rx(2, {make_frame(B, A)});
  EXPECT_EQ(fdb_.stats().moved, 1u);
  clear_tx();
  rx(0, {make_frame(A, B)});
  EXPECT_EQ(tx_count(2), 1u);
  EXPECT_EQ(tx_count(1), 0u);
}

}  // namespace
}  // namespace tapswitch::test
