#include <poll.h>

#include <gtest/gtest.h>

#include "fdb/fdb.h"
#include "tests/unit/eal_env.h"

namespace tapswitch {
namespace {

FdbKey key(uint8_t last, uint16_t vlan = 0) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
  return FdbKey::make(vlan, mac);
}

FdbEntry lookup(const Fdb& fdb, FdbKey k) {
  FdbEntry e;
  fdb.lookup_bulk(&k, 1, &e);
  return e;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
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
  EXPECT_EQ(fdb.stats().moved, 1u);
  EXPECT_EQ(fdb.stats().entries, 1u);
}

TEST(Fdb, BulkLookupReturnsEachKeysEntry) {
  Fdb fdb({});
  for (uint8_t i = 0; i < 40; i += 2) fdb.request_learn(0, key(i), i);
  fdb.process_learning();
  FdbKey keys[Fdb::kMaxBulk];
  FdbEntry out[Fdb::kMaxBulk];
  for (uint8_t i = 0; i < 40; ++i) keys[i] = key(i);
  EXPECT_EQ(fdb.lookup_bulk(keys, 40, out), 20u);
  for (uint8_t i = 0; i < 40; ++i) EXPECT_EQ(out[i].port, i % 2 ? kNoPort : i) << int(i);
}

TEST(Fdb, AFullTableRefusesNewMacsAndCountsThem) {
  FdbConfig c;
  c.capacity = 64;
  Fdb fdb(c);
  for (unsigned i = 0; i < 200; ++i) {
    const uint8_t mac[6] = {0x02, 0, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    fdb.request_learn(0, FdbKey::make(0, mac), 1);
  }
  fdb.process_learning();
  FdbStats s = fdb.stats();
  EXPECT_GE(s.entries, 64u);  // rte_hash may hold a little more than asked
  EXPECT_EQ(s.entries + s.refused, 200u);
  EXPECT_GT(s.refused, 0u);
  unsigned n = 0;
  fdb.for_each([&](const FdbRecord&) { ++n; });
  EXPECT_EQ(n, s.entries);
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

}  // namespace
}  // namespace tapswitch
