// Fdb: learning through the rings, lookups, moves, counters.
#include <poll.h>

#include <map>

#include <gtest/gtest.h>

#include "fdb/fdb.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fdb_util.h"

namespace tapswitch {
namespace {

using test::key;
using test::lookup;

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(Fdb, EntryLayoutIsOneWordEach) {
  static_assert(sizeof(FdbKey) == 8 && sizeof(FdbEntry) == 8);
  const FdbEntry e{0x1234, kFdbStatic, 0, 0xdeadbeef};
  EXPECT_EQ(e.pack(), 0xdeadbeef'00'01'1234ull);
  EXPECT_EQ(FdbEntry::unpack(e.pack()).last_seen, 0xdeadbeefu);
  const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  EXPECT_EQ(FdbKey::make(0xABC, mac).raw, 0x0ABC'5544'3322'1102ull);
}

TEST(Fdb, MissUntilTheWriterAppliesTheRequest) {
  Fdb fdb({});
  EXPECT_EQ(lookup(fdb, key(1)).port, kNoPort);
  ASSERT_TRUE(fdb.request_learn(0, key(1), 3));
  EXPECT_EQ(lookup(fdb, key(1)).port, kNoPort);  // queued, not applied
  fdb.kick(0);
  EXPECT_TRUE(readable(fdb.event_fd()));
  EXPECT_EQ(fdb.process_learning(), 1u);
  EXPECT_FALSE(readable(fdb.event_fd()));
  FdbEntry e = lookup(fdb, key(1));
  EXPECT_EQ(e.port, 3);
  EXPECT_EQ(e.flags, kFdbDynamic);
  EXPECT_EQ(fdb.stats().entries, 1u);
  EXPECT_EQ(fdb.stats().learned, 1u);
  EXPECT_EQ(fdb.port_entries(3), 1u);
}

TEST(Fdb, KeysAreVlanScoped) {
  Fdb fdb({});
  fdb.request_learn(0, key(1, 10), 1);
  fdb.process_learning();
  EXPECT_EQ(lookup(fdb, key(1, 10)).port, 1);
  EXPECT_EQ(lookup(fdb, key(1, 20)).port, kNoPort);
}

TEST(Fdb, ADynamicEntryFollowsItsMacAndTheMoveIsCounted) {
  Fdb fdb({});
  fdb.request_learn(0, key(1), 1);
  fdb.process_learning();
  fdb.request_learn(0, key(1), 2);
  fdb.process_learning();
  EXPECT_EQ(lookup(fdb, key(1)).port, 2);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.moved, 1u);
  EXPECT_EQ(s.learned, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(fdb.port_entries(1), 0u);
  EXPECT_EQ(fdb.port_entries(2), 1u);
}

TEST(Fdb, ARefreshOnTheSamePortUpdatesLastSeenOnly) {
  Fdb fdb({});
  fdb.request_learn(0, key(1), 1);
  fdb.process_learning_at(100);
  fdb.request_learn(0, key(1), 1);
  fdb.process_learning_at(105);
  FdbEntry e = lookup(fdb, key(1));
  EXPECT_EQ(e.last_seen, 105u);
  EXPECT_EQ(fdb.stats().moved, 0u);
  EXPECT_EQ(fdb.stats().learned, 1u);
}

TEST(Fdb, BulkLookupReturnsEachKeysEntry) {
  Fdb fdb({});
  for (uint8_t i = 0; i < 64; i += 2) fdb.request_learn(0, key(i), i);
  fdb.process_learning();
  FdbKey keys[Fdb::kMaxBulk];
  FdbEntry out[Fdb::kMaxBulk];
  for (uint8_t i = 0; i < 64; ++i) keys[i] = key(i);
  EXPECT_EQ(fdb.lookup_bulk(keys, 64, out), 32u);
  for (uint8_t i = 0; i < 64; ++i) EXPECT_EQ(out[i].port, i % 2 ? kNoPort : i) << int(i);
}

TEST(Fdb, AFullLearnRingDropsAndCountsWithoutBlocking) {
  FdbConfig c;
  c.learn_ring = 64;
  Fdb fdb(c);
  unsigned ok = 0;
  for (uint8_t i = 0; i < 100; ++i) ok += fdb.request_learn(0, key(i), 1);
  EXPECT_LT(ok, 100u);
  EXPECT_EQ(fdb.stats().learn_dropped, 100u - ok);
  EXPECT_EQ(fdb.process_learning(), ok);
}

TEST(Fdb, ALimitedBudgetLeavesTheRestForLater) {
  Fdb fdb({});
  for (uint8_t i = 0; i < 200; ++i) fdb.request_learn(0, key(i), 1);
  EXPECT_EQ(fdb.process_learning(64), 64u);
  EXPECT_TRUE(readable(fdb.event_fd())) << "the writer must be woken again for the rest";
  EXPECT_EQ(fdb.process_learning(), 136u);
  EXPECT_EQ(fdb.stats().entries, 200u);
}

TEST(Fdb, EachWorkerHasItsOwnRing) {
  FdbConfig c;
  c.workers = 3;
  Fdb fdb(c);
  fdb.request_learn(0, key(1), 1);
  fdb.request_learn(2, key(2), 2);
  EXPECT_EQ(fdb.process_learning(), 2u);
  EXPECT_EQ(lookup(fdb, key(1)).port, 1);
  EXPECT_EQ(lookup(fdb, key(2)).port, 2);
}

TEST(Fdb, RequestsForPortsOutOfRangeAreIgnored) {
  FdbConfig c;
  c.max_ports = 8;
  Fdb fdb(c);
  fdb.request_learn(0, key(1), 8);
  fdb.process_learning();
  EXPECT_EQ(fdb.stats().entries, 0u);
}

TEST(Fdb, ForEachListsEveryEntry) {
  Fdb fdb({});
  fdb.request_learn(0, key(1, 5), 7);
  fdb.request_learn(0, key(2), 8);
  fdb.process_learning();
  std::map<uint64_t, uint16_t> seen;
  fdb.for_each([&](const FdbRecord& r) { seen[r.key.raw] = r.entry.port; });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[key(1, 5).raw], 7);
  EXPECT_EQ(seen[key(2).raw], 8);
}

TEST(Fdb, WorkerLookupCountersAddUp) {
  FdbConfig c;
  c.workers = 2;
  Fdb fdb(c);
  fdb.count_lookups(0, 5, 1);
  fdb.count_lookups(1, 2, 3, 4);
  FdbStats s = fdb.stats();
  EXPECT_EQ(s.hits, 7u);
  EXPECT_EQ(s.misses, 4u);
  EXPECT_EQ(s.static_conflicts, 4u);
}

TEST(Fdb, TheTimerFiresEverySecond) {
  Fdb fdb({});
  pollfd p{fdb.timer_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1);
  fdb.on_timer();
  EXPECT_FALSE(readable(fdb.timer_fd()));
}

}  // namespace
}  // namespace tapswitch
