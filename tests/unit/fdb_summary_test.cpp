// The MacTable's summary (one tag word per bucket: way fingerprints and the overflow flag):
// it must mirror the slots after every kind of write, or lookups would miss keys that are
// there (a missing fingerprint or overflow flag) or read lines for nothing (a stale one).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "fdb/fdb.h"
#include "fdb/mac_table.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fdb_util.h"
#include "tests/unit/mac_table_check.h"

namespace tapswitch {
namespace {

using test::kKeyBits;
using test::random_keys;

// Looks up keys in one bulk call; value kMiss for a miss.
constexpr uint64_t kMiss = ~0ull;
std::vector<uint64_t> lookup_all(const MacTable& t, const std::vector<uint64_t>& keys) {
  std::vector<uint64_t> out(keys.size());
  for (size_t i = 0; i < keys.size(); i += MacTable::kMaxBulk) {
    const unsigned n = static_cast<unsigned>(std::min<size_t>(MacTable::kMaxBulk, keys.size() - i));
    t.lookup_bulk(&keys[i], n, &out[i], kMiss);
  }
  return out;
}

// n random keys that share a first bucket and a fingerprint.
std::vector<uint64_t> same_bucket_and_fingerprint(const MacTable& t, size_t n) {
  std::map<std::pair<uint32_t, uint32_t>, std::vector<uint64_t>> groups;
  std::mt19937_64 rng(11);
  for (;;) {
    const uint64_t k = rng() & kKeyBits;
    auto& g = groups[{t.first_bucket(k), t.fingerprint(k)}];
    if (std::find(g.begin(), g.end(), k) == g.end()) g.push_back(k);
    if (g.size() == n) return g;
  }
}

TEST(MacTableSummary, FingerprintsAreSevenBitsAndNeverZero) {
  MacTable t(1024);
  std::set<uint32_t> seen;
  for (uint64_t k : random_keys(20000, 1)) {
    const uint32_t fp = t.fingerprint(k);
    ASSERT_GE(fp, 1u);
    ASSERT_LE(fp, 127u);
    seen.insert(fp);
  }
  EXPECT_EQ(seen.size(), 127u);
  EXPECT_EQ(t.bytes(), t.slot_count() * sizeof(Pair) + 64 + 4096) << "buckets, one spare, one page of tags";
}

// Keys that share both their first bucket and their fingerprint are told apart by the key:
// every one is found (not only the first candidate way), an absent one is not, and erasing
// one leaves the others.
TEST(MacTableSummary, FingerprintCollisionsInABucketAreResolvedByTheKey) {
  MacTable t(1024);
  const std::vector<uint64_t> g = same_bucket_and_fingerprint(t, 5);
  const std::vector<uint64_t> in(g.begin(), g.begin() + 4), absent{g[4]};
  for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(t.insert(in[i], 100 + i) / MacTable::kWays, t.first_bucket(in[i]));
  ASSERT_EQ(test::tag_mismatch(t), "");
  const uint32_t fp = t.fingerprint(g[0]);
  EXPECT_EQ(t.tag(t.first_bucket(g[0])) & 0x7f7f7f7fu, fp * 0x01010101u) << "all four ways carry the fingerprint";

  // Every order, so that each key is sometimes behind other candidates.
  std::vector<uint64_t> q = {g[4], g[3], g[2], g[1], g[0], g[4]};
  std::vector<uint64_t> got = lookup_all(t, q);
  EXPECT_EQ(got, (std::vector<uint64_t>{kMiss, 103, 102, 101, 100, kMiss}));
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(lookup_all(t, {in[i]})[0], 100 + i);
  EXPECT_EQ(lookup_all(t, absent)[0], kMiss);

  // Erase the second: the third and fourth are still behind a candidate that does not match.
  t.erase(t.find(g[1]));
  ASSERT_EQ(test::tag_mismatch(t), "");
  EXPECT_EQ(lookup_all(t, q), (std::vector<uint64_t>{kMiss, 103, 102, kMiss, 100, kMiss}));
  // The fifth takes the freed way.
  ASSERT_NE(t.insert(g[4], 104), MacTable::kNone);
  ASSERT_EQ(test::tag_mismatch(t), "");
  EXPECT_EQ(lookup_all(t, q), (std::vector<uint64_t>{104, 103, 102, kMiss, 100, 104}));
}

// A fifth key of a full first bucket lives in its second one: the first bucket's overflow
// flag sends lookups there, and comes down only when no such key is left.
TEST(MacTableSummary, TheOverflowFlagFollowsKeysInTheirSecondBucket) {
  MacTable t(1024);
  std::map<uint32_t, std::vector<uint64_t>> by_bucket;
  std::vector<uint64_t> g;
  for (uint64_t k : random_keys(100000, 5)) {
    auto& v = by_bucket[t.first_bucket(k)];
    v.push_back(k);
    if (v.size() == 6) {
      g = v;
      break;
    }
  }
  ASSERT_EQ(g.size(), 6u);
  const uint32_t home = t.first_bucket(g[0]);
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NE(t.insert(g[i], i), MacTable::kNone);
  EXPECT_NE(t.find(g[4]) / MacTable::kWays, home);
  EXPECT_NE(t.find(g[5]) / MacTable::kWays, home);
  EXPECT_TRUE(t.tag(home) & MacTable::kTagOverflow);
  ASSERT_EQ(test::tag_mismatch(t), "");
  EXPECT_EQ(lookup_all(t, g), (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));

  t.erase(t.find(g[4]));  // one key still lives away from home
  EXPECT_TRUE(t.tag(home) & MacTable::kTagOverflow);
  ASSERT_EQ(test::tag_mismatch(t), "");
  EXPECT_EQ(lookup_all(t, {g[5], g[4]}), (std::vector<uint64_t>{5, kMiss}));
  t.erase(t.find(g[0]));  // a key at home goes: the away one stays where it is
  EXPECT_EQ(lookup_all(t, {g[5], g[0]}), (std::vector<uint64_t>{5, kMiss}));
  t.erase(t.find(g[5]));
  EXPECT_FALSE(t.tag(home) & MacTable::kTagOverflow);
  ASSERT_EQ(test::tag_mismatch(t), "");
  EXPECT_EQ(lookup_all(t, {g[1], g[2], g[3], g[5]}), (std::vector<uint64_t>{1, 2, 3, kMiss}));
}

// Beyond half load insertions move keys between their buckets; every move must carry the
// fingerprint along and update both overflow flags.
TEST(MacTableSummary, CuckooMovesEraseAndReuseKeepTheTagsExact) {
  MacTable t(256);  // 128 buckets of 4
  std::map<uint64_t, uint64_t> in;
  std::mt19937_64 rng(3);
  const auto pool = random_keys(2000, 9);
  size_t next = 0;
  for (int round = 0; round < 20; ++round) {
    // Fill to ~90%, then erase a random half, repeatedly: moves, erases and slot reuse.
    while (in.size() < 460 && next < pool.size()) {
      const uint64_t k = pool[next++];
      if (t.insert(k, k ^ 0x5555) != MacTable::kNone) in[k] = k ^ 0x5555;
    }
    ASSERT_EQ(test::tag_mismatch(t), "") << "round " << round;
    for (auto it = in.begin(); it != in.end();) {
      if (rng() & 1) {
        t.erase(t.find(it->first));
        it = in.erase(it);
      } else {
        ++it;
      }
    }
    ASSERT_EQ(test::tag_mismatch(t), "") << "round " << round;
    if (next == pool.size()) break;
  }
  EXPECT_GT(t.relocations(), 100u);
  std::vector<uint64_t> keys, want;
  unsigned away = 0;
  for (auto [k, v] : in) {
    keys.push_back(k);
    want.push_back(v);
    away += t.find(k) / MacTable::kWays != t.first_bucket(k);
  }
  EXPECT_GT(away, 0u) << "some keys must live in their second bucket";
  for (size_t i = 0; i < pool.size(); ++i)
    if (!in.count(pool[i])) {
      keys.push_back(pool[i]);
      want.push_back(kMiss);
    }
  EXPECT_EQ(lookup_all(t, keys), want);
}

// The FDB's removals (flushes, aging, eviction) all go through the table's erase; after each,
// the tags still mirror the slots and lookups agree with the entries.
TEST(FdbSummary, FlushesAgingAndEvictionKeepTheTagsExact) {
  using test::key;
  using test::learn;
  using test::lookup;
  FdbConfig c;
  c.capacity = 512;
  c.aging = 10;
  Fdb fdb(c);
  auto check = [&](const char* when) {
    ASSERT_EQ(test::tag_mismatch(fdb.table()), "") << when;
    std::map<uint64_t, uint16_t> present;
    fdb.for_each([&](const FdbRecord& r) { present[r.key.raw] = r.entry.port; });
    for (unsigned n = 0; n < 1200; ++n) {
      const auto it = present.find(key(n).raw);
      ASSERT_EQ(lookup(fdb, key(n)).port, it == present.end() ? kNoPort : it->second) << when << " key " << n;
    }
  };
  for (unsigned n = 0; n < 512; ++n) learn(fdb, key(n), static_cast<uint16_t>(n % 4), n < 256 ? 1000 : 1005);
  check("full");
  EXPECT_EQ(fdb.flush_port(1), 128u);
  check("after flush_port");
  EXPECT_EQ(fdb.age(1011, true), 192u);  // the older half, less port 1's share
  check("after aging");
  for (unsigned n = 512; n < 1200; ++n) learn(fdb, key(n), static_cast<uint16_t>(n % 4), 1020);  // evicts
  EXPECT_GT(fdb.stats().evicted, 0u);
  check("after eviction");
  fdb.flush_all();
  check("after flush_all");
  for (uint32_t b = 0; b < fdb.table().bucket_count(); ++b) ASSERT_EQ(fdb.table().tag(b), 0u);
  for (unsigned n = 0; n < 512; ++n) learn(fdb, key(n), 3, 1030);
  check("relearned");
}

}  // namespace
}  // namespace tapswitch
