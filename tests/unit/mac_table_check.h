// Checks a MacTable's summary against its slots, for the FDB tests (writer side only).
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fdb/mac_table.h"

namespace tapswitch::test {

// Keys as MacTable takes them (bits 60..63 clear).
constexpr uint64_t kKeyBits = (1ull << 60) - 1;

// n distinct random keys, the same for the same seed.
inline std::vector<uint64_t> random_keys(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint64_t> seen;
  std::vector<uint64_t> out;
  while (out.size() < n) {
    const uint64_t k = rng() & kKeyBits;
    if (seen.insert(k).second) out.push_back(k);
  }
  return out;
}

// "" when every bucket's tag is exactly what its slots say: the fingerprint of each used way's
// key in that way's byte, 0 for an empty way, and the overflow flag set exactly on the buckets
// that are the first bucket of some key living in its second one. Otherwise the first
// difference.
inline std::string tag_mismatch(const MacTable& t) {
  std::vector<uint32_t> want(t.bucket_count(), 0);
  for (uint32_t s = 0; s < t.slot_count(); ++s) {
    const MacTable::Entry e = t.at(s);
    if (!e.used()) continue;
    const uint32_t b = s / MacTable::kWays, w = s % MacTable::kWays;
    want[b] |= t.fingerprint(e.key) << (8 * w);
    if (b != t.first_bucket(e.key)) {
      if (b != t.second_bucket(e.key)) return "key in slot " + std::to_string(s) + " is in neither of its buckets";
      want[t.first_bucket(e.key)] |= MacTable::kTagOverflow;
    }
  }
  for (uint32_t b = 0; b < t.bucket_count(); ++b)
    if (t.tag(b) != want[b])
      return "bucket " + std::to_string(b) + ": tag " + std::to_string(t.tag(b)) + ", slots say " + std::to_string(want[b]);
  return "";
}

}  // namespace tapswitch::test
