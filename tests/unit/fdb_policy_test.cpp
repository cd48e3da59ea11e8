// Fdb policies: aging, static entries, port limits, eviction when full, flushes, port removal.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/error.h"
#include "fdb/fdb.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fdb_util.h"

namespace tapswitch {
namespace {

using test::key;
using test::learn;
using test::lookup;

TEST(FdbAging, AnIdleEntryGoesAfterTheAgingTimeAndNotBefore) {
  Fdb fdb({});  // 300 s
  learn(fdb, key(1), 1, 1000);
  EXPECT_EQ(fdb.age(1300, true), 0u);
  EXPECT_EQ(lookup(fdb, key(1)).port, 1);
  EXPECT_EQ(fdb.age(1301, true), 1u);
  EXPECT_EQ(lookup(fdb, key(1)).port, kNoPort);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.aged, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(fdb.port_entries(1), 0u);
}

TEST(FdbAging, ARefreshKeepsTheEntry) {
  FdbConfig c;
  c.aging = 10;
  Fdb fdb(c);
  learn(fdb, key(1), 1, 1000);
  learn(fdb, key(1), 1, 1008);
  EXPECT_EQ(fdb.age(1015, true), 0u);
  EXPECT_EQ(fdb.age(1019, true), 1u);
}

TEST(FdbAging, ZeroMeansNever) {
  FdbConfig c;
  c.aging = 0;
  Fdb fdb(c);
  learn(fdb, key(1), 1, 1000);
  EXPECT_EQ(fdb.age(1000 + 1000000, true), 0u);
  EXPECT_EQ(lookup(fdb, key(1)).port, 1);
}

TEST(FdbAging, StaticEntriesNeverAge) {
  Fdb fdb({});
  fdb.add_static(key(1), 4);
  EXPECT_EQ(fdb.age(Fdb::now() + 100000, true), 0u);
  EXPECT_EQ(lookup(fdb, key(1)).port, 4);
}

// The timer ages a slice per tick; a whole pass takes at most max(1, aging/10) ticks.
TEST(FdbAging, SlicesCoverTheTableWithinAPass) {
  FdbConfig c;
  c.capacity = 1u << 19;  // 1M slots: larger than one slice
  c.aging = 300;          // a pass of 30 ticks
  Fdb fdb(c);
  for (unsigned i = 0; i < 3000; ++i) fdb.request_learn(0, key(i, static_cast<uint16_t>(i % 7)), 1);
  fdb.process_learning_at(1000);
  unsigned aged = 0, ticks = 0;
  while (ticks < 30 && aged < 3000) {
    aged += fdb.age(2000);
    ++ticks;
  }
  EXPECT_EQ(aged, 3000u);
  EXPECT_GT(ticks, 1u) << "one tick must not walk a large table whole";
}

TEST(FdbStatic, NeverMovesAndCountsTheConflict) {
  Fdb fdb({});
  EXPECT_EQ(fdb.add_static(key(1), 4), FdbAdd::added);
  learn(fdb, key(1), 5, 1000);
  FdbEntry e = lookup(fdb, key(1));
  EXPECT_EQ(e.port, 4);
  EXPECT_EQ(e.flags, kFdbStatic);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.static_conflicts, 1u);
  EXPECT_EQ(s.moved, 0u);
  EXPECT_EQ(s.static_entries, 1u);
  EXPECT_EQ(s.entries, 1u);
  learn(fdb, key(1), 4, 1001);  // from its own port: nothing to count
  EXPECT_EQ(fdb.stats().static_conflicts, 1u);
}

TEST(FdbStatic, ReplacesALearnedEntryAndCanBeRemoved) {
  Fdb fdb({});
  learn(fdb, key(1), 2, 1000);
  EXPECT_EQ(fdb.add_static(key(1), 3), FdbAdd::made_static);
  EXPECT_EQ(fdb.stats().flushed, 1u) << "the learned entry went by command";
  EXPECT_EQ(fdb.add_static(key(1), 4), FdbAdd::replaced);
  EXPECT_EQ(fdb.stats().flushed, 1u) << "a static entry moved: nothing went";
  EXPECT_EQ(fdb.port_entries(2), 0u);
  EXPECT_EQ(lookup(fdb, key(1)).port, 4);
  EXPECT_EQ(fdb.stats().entries, 1u);
  EXPECT_TRUE(fdb.remove(key(1)));
  EXPECT_FALSE(fdb.remove(key(1)));
  EXPECT_EQ(fdb.stats().flushed, 2u) << "fdb del counts";
  EXPECT_EQ(lookup(fdb, key(1)).port, kNoPort);
  EXPECT_EQ(fdb.stats().entries, 0u);
  EXPECT_EQ(fdb.stats().static_entries, 0u);
}

TEST(FdbStatic, PortOutOfRangeIsAnError) {
  FdbConfig c;
  c.max_ports = 4;
  Fdb fdb(c);
  EXPECT_THROW(fdb.add_static(key(1), 4), Error);
}

TEST(FdbLimit, APortAtItsLimitLearnsNoNewMac) {
  FdbConfig c;
  c.port_limit = 2;
  Fdb fdb(c);
  for (unsigned i = 0; i < 3; ++i) learn(fdb, key(i), 1, 1000);
  learn(fdb, key(10), 2, 1000);
  EXPECT_EQ(fdb.port_entries(1), 2u);
  EXPECT_EQ(lookup(fdb, key(2)).port, kNoPort);
  EXPECT_EQ(lookup(fdb, key(10)).port, 2);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.refused_port_limit, 1u);
  EXPECT_EQ(s.entries, 3u);
  // Moving onto the full port drops the entry rather than leaving it on the old port.
  learn(fdb, key(10), 1, 1001);
  EXPECT_EQ(lookup(fdb, key(10)).port, kNoPort);
  EXPECT_EQ(fdb.stats().refused_port_limit, 2u);
  EXPECT_EQ(fdb.stats().moved_over_limit, 1u);
  EXPECT_EQ(fdb.port_entries(2), 0u);
  s = fdb.stats();  // every learned entry is accounted for
  EXPECT_EQ(s.learned - s.aged - s.evicted - s.moved_over_limit - s.flushed, s.entries - s.static_entries);
  // Statics do not count against the limit.
  EXPECT_EQ(fdb.add_static(key(20), 1), FdbAdd::added);
}

TEST(FdbFull, ANewMacEvictsFromThePortWithTheMostEntries) {
  FdbConfig c;
  c.capacity = 12;
  Fdb fdb(c);
  // Port 1 has 7 entries (no more than one eviction sample), seen at 1000..1006.
  for (unsigned i = 0; i < 7; ++i) learn(fdb, key(i), 1, 1006 - i);
  for (unsigned i = 0; i < 5; ++i) learn(fdb, key(100 + i), 2, 1000);
  learn(fdb, key(200), 3, 1100);
  EXPECT_EQ(lookup(fdb, key(200)).port, 3);
  EXPECT_EQ(fdb.port_entries(1), 6u);
  EXPECT_EQ(fdb.port_entries(2), 5u);
  EXPECT_EQ(lookup(fdb, key(6)).port, kNoPort) << "the oldest entry of the victim port goes";
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(s.entries, 12u);
  EXPECT_EQ(s.refused, 0u);
}

TEST(FdbFull, AMacFloodFromOnePortLeavesOtherPortsHostsAlone) {
  FdbConfig c;
  c.capacity = 64;
  Fdb fdb(c);
  learn(fdb, key(1), 1, 1000);
  learn(fdb, key(2), 2, 1000);
  for (unsigned i = 0; i < 5000; ++i) {
    fdb.request_learn(0, key(1000 + i), 3);
    if (i % 100 == 99) fdb.process_learning_at(1000 + i / 100);
  }
  fdb.process_learning_at(1100);
  EXPECT_EQ(lookup(fdb, key(1)).port, 1);
  EXPECT_EQ(lookup(fdb, key(2)).port, 2);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.entries, 64u);
  EXPECT_EQ(fdb.port_entries(3), 62u);
  EXPECT_EQ(s.learned, 5002u);
  EXPECT_EQ(s.evicted, 5000u - 62u);
  unsigned listed = 0;
  fdb.for_each([&](const FdbRecord&) { ++listed; });
  EXPECT_EQ(listed, 64u);
}

TEST(FdbFull, RefusedWhenOnlyStaticEntriesAreLeft) {
  FdbConfig c;
  c.capacity = 16;
  Fdb fdb(c);
  for (unsigned i = 0; i < 16; ++i) ASSERT_EQ(fdb.add_static(key(i), 1), FdbAdd::added);
  EXPECT_EQ(fdb.add_static(key(99), 1), FdbAdd::full);
  learn(fdb, key(100), 2, 1000);
  EXPECT_EQ(lookup(fdb, key(100)).port, kNoPort);
  EXPECT_EQ(fdb.stats().refused, 1u);
  EXPECT_EQ(fdb.stats().evicted, 0u);
}

class FdbFlush : public ::testing::Test {
 protected:
  void SetUp() override {
    for (unsigned i = 0; i < 4; ++i) {
      learn(fdb, key(i, 10), 1, 1000);
      learn(fdb, key(i, 20), 2, 1000);
    }
    fdb.add_static(key(50, 10), 1);
    fdb.add_static(key(51, 20), 2);
  }
  unsigned count() {
    unsigned n = 0;
    fdb.for_each([&](const FdbRecord&) { ++n; });
    EXPECT_EQ(n, fdb.stats().entries);
    return n;
  }
  Fdb fdb{FdbConfig{}};
};

TEST_F(FdbFlush, AllRemovesLearnedEntriesOnly) {
  EXPECT_EQ(fdb.flush_all(), 8u);
  EXPECT_EQ(count(), 2u);
  EXPECT_EQ(fdb.flush_all(FdbScope::all), 2u);
  EXPECT_EQ(count(), 0u);
  EXPECT_EQ(fdb.stats().flushed, 10u);
}

TEST_F(FdbFlush, ByPort) {
  EXPECT_EQ(fdb.flush_port(1), 4u);
  EXPECT_EQ(lookup(fdb, key(0, 10)).port, kNoPort);
  EXPECT_EQ(lookup(fdb, key(0, 20)).port, 2);
  EXPECT_EQ(lookup(fdb, key(50, 10)).port, 1);
  EXPECT_EQ(fdb.port_entries(1), 0u);
  EXPECT_EQ(fdb.port_entries(2), 4u);
  EXPECT_EQ(count(), 6u);
}

TEST_F(FdbFlush, ByVlan) {
  EXPECT_EQ(fdb.flush_vlan(20, FdbScope::all), 5u);
  EXPECT_EQ(lookup(fdb, key(51, 20)).port, kNoPort);
  EXPECT_EQ(lookup(fdb, key(1, 10)).port, 1);
  EXPECT_EQ(count(), 5u);
}

TEST_F(FdbFlush, AppliesQueuedRequestsFirst) {
  fdb.request_learn(0, key(77, 10), 1);
  fdb.flush_port(1);
  EXPECT_EQ(lookup(fdb, key(77, 10)).port, kNoPort);
  EXPECT_EQ(fdb.process_learning(), 0u) << "the request must not come back after the flush";
}

TEST_F(FdbFlush, RemovePortRemovesStaticEntriesToo) {
  EXPECT_EQ(fdb.remove_port(1), 5u);
  EXPECT_EQ(lookup(fdb, key(50, 10)).port, kNoPort);
  EXPECT_EQ(count(), 5u);
  EXPECT_EQ(fdb.stats().static_entries, 1u);
}

// remove_port() returns only once every online reader has passed a quiescent point, so no
// worker can still forward by a result naming the removed port.
TEST(FdbQsbr, RemovePortWaitsForOnlineReaders) {
  FdbConfig c;
  c.workers = 2;
  Fdb fdb(c);
  learn(fdb, key(1), 1, 1000);
  std::atomic<int> stage{0};
  std::thread reader([&] {
    fdb.reader_online(1);
    EXPECT_EQ(lookup(fdb, key(1)).port, 1);  // holds a result naming port 1
    stage = 1;
    while (stage.load() != 2) std::this_thread::yield();
    fdb.quiescent(1);  // done with it
    while (stage.load() != 3) std::this_thread::yield();
    fdb.reader_offline(1);
  });
  while (stage.load() != 1) std::this_thread::yield();
  std::atomic<bool> removed{false};
  std::thread writer([&] {
    fdb.remove_port(1);
    removed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(removed.load()) << "returned while a reader could still use port 1";
  stage = 2;
  writer.join();
  EXPECT_TRUE(removed.load());
  EXPECT_EQ(lookup(fdb, key(1)).port, kNoPort);
  stage = 3;
  reader.join();
  // With every reader offline nothing is waited for.
  fdb.remove_port(2);
}

}  // namespace
}  // namespace tapswitch
