// MacTable: the cuckoo table under the FDB.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <bit>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "fdb/mac_table.h"
#include "tests/unit/mac_table_check.h"

namespace tapswitch {
namespace {

using test::kKeyBits;
using test::random_keys;

uint64_t lookup(const MacTable& t, uint64_t key, bool* hit = nullptr) {
  uint64_t v = 0;
  const uint64_t m = t.lookup_bulk(&key, 1, &v);
  if (hit) *hit = m & 1;
  return m & 1 ? v : ~0ull;
}

TEST(MacTable, IsAtLeastTwiceTheCapacityInPowerOfTwoBuckets) {
  MacTable t(1000);
  EXPECT_GE(t.slot_count(), 2000u);
  EXPECT_TRUE(std::has_single_bit(t.slot_count() / MacTable::kWays));
  EXPECT_GT(t.bytes(), t.slot_count() * sizeof(Pair));  // plus the summary (fdb_summary_test)
}

// The table is resident from construction: neither a reader's first lookup in a page nor
// the writer's aging pass (which reads every slot) takes a page fault on the data path.
TEST(MacTable, NoPageFaultsAfterConstruction) {
  MacTable t(10000);  // 512 KB of buckets: more than 100 pages, below the huge-page size
  auto faults = [] {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return u.ru_minflt + u.ru_majflt;
  };
  const long before = faults();
  unsigned used = 0;
  for (uint32_t s = 0; s < t.slot_count(); ++s) used += t.at(s).used();
  const std::vector<uint64_t> keys = random_keys(MacTable::kMaxBulk, 7);
  std::vector<uint64_t> values(keys.size());
  EXPECT_EQ(t.lookup_bulk(keys.data(), static_cast<unsigned>(keys.size()), values.data()), 0u);
  const long after = faults();
  EXPECT_EQ(used, 0u);
  EXPECT_LT(after - before, 8) << "page faults while reading a new table of " << t.bytes() / 4096 << " pages";
}

TEST(MacTable, InsertFindSetErase) {
  MacTable t(64);
  const uint64_t k = 0x0123'4567'89ab'cdefull & kKeyBits;
  EXPECT_EQ(t.find(k), MacTable::kNone);
  bool hit = true;
  lookup(t, k, &hit);
  EXPECT_FALSE(hit);
  const uint32_t slot = t.insert(k, 42);
  ASSERT_NE(slot, MacTable::kNone);
  EXPECT_EQ(t.find(k), slot);
  EXPECT_EQ(t.at(slot).key, k);
  EXPECT_EQ(t.at(slot).value, 42u);
  EXPECT_EQ(lookup(t, k), 42u);
  t.set(slot, 43);
  EXPECT_EQ(lookup(t, k), 43u);
  t.erase(slot);
  EXPECT_FALSE(t.at(slot).used());
  EXPECT_EQ(t.find(k), MacTable::kNone);
  lookup(t, k, &hit);
  EXPECT_FALSE(hit);
}

TEST(MacTable, KeyZeroAndTheLargestKeyAreOrdinaryKeys) {
  MacTable t(16);
  bool hit = true;
  lookup(t, 0, &hit);
  EXPECT_FALSE(hit) << "an empty slot must not match key 0";
  lookup(t, kKeyBits, &hit);
  EXPECT_FALSE(hit);
  ASSERT_NE(t.insert(0, 7), MacTable::kNone);
  ASSERT_NE(t.insert(kKeyBits, 8), MacTable::kNone);
  EXPECT_EQ(lookup(t, 0), 7u);
  EXPECT_EQ(lookup(t, kKeyBits), 8u);
}

// Filling to the full capacity (half the slots) must place every key and keep every key
// findable through the cuckoo moves and overflow flags that takes.
TEST(MacTable, FillsToCapacityAndFindsEveryKeyInBulk) {
  for (uint32_t cap : {16u, 1000u, 1u << 16}) {
    MacTable t(cap);
    const auto keys = random_keys(cap, cap);
    for (size_t i = 0; i < keys.size(); ++i) ASSERT_NE(t.insert(keys[i], i), MacTable::kNone) << cap << " " << i;
    const auto absent = random_keys(cap + 64, cap + 1);
    std::set<uint64_t> present(keys.begin(), keys.end());
    uint64_t vals[MacTable::kMaxBulk];
    for (size_t i = 0; i < keys.size(); i += 32) {
      const unsigned n = static_cast<unsigned>(std::min<size_t>(32, keys.size() - i));
      const uint64_t m = t.lookup_bulk(&keys[i], n, vals);
      ASSERT_EQ(m, n == 64 ? ~0ull : (1ull << n) - 1) << cap;
      for (unsigned j = 0; j < n; ++j) ASSERT_EQ(vals[j], i + j);
    }
    unsigned false_hits = 0;
    for (uint64_t k : absent) {
      bool hit;
      lookup(t, k, &hit);
      false_hits += hit && !present.count(k);
    }
    EXPECT_EQ(false_hits, 0u);
  }
}

// Beyond half load the table relies on cuckoo moves; it still finds everything it accepted.
TEST(MacTable, CuckooMovesKeepKeysFindable) {
  MacTable t(256);  // 512 slots
  const auto keys = random_keys(480, 7);
  std::map<uint64_t, uint64_t> in;
  for (size_t i = 0; i < keys.size(); ++i)
    if (t.insert(keys[i], i) != MacTable::kNone) in[keys[i]] = i;
  EXPECT_GT(t.relocations(), 0u) << "at 90% load some insertions must have moved keys";
  EXPECT_GT(in.size(), 400u);
  for (auto [k, v] : in) {
    ASSERT_EQ(lookup(t, k), v);
    ASSERT_NE(t.find(k), MacTable::kNone);
  }
  // Erase every other key; the rest, including those living in their second bucket, stay.
  bool odd = false;
  for (auto it = in.begin(); it != in.end();) {
    if ((odd = !odd)) {
      t.erase(t.find(it->first));
      it = in.erase(it);
    } else {
      ++it;
    }
  }
  for (auto [k, v] : in) ASSERT_EQ(lookup(t, k), v);
  unsigned used = 0;
  for (uint32_t s = 0; s < t.slot_count(); ++s) used += t.at(s).used();
  EXPECT_EQ(used, in.size());
}

TEST(MacTable, RefusesWhenNoPathHasRoom) {
  MacTable t(2);  // the minimum: 2 buckets of 4 slots
  unsigned placed = 0;
  for (uint64_t k : random_keys(20, 3)) placed += t.insert(k, 1) != MacTable::kNone;
  EXPECT_EQ(placed, 8u);
}

}  // namespace
}  // namespace tapswitch
