// MacTable: a fixed-size two-choice cuckoo hash from 8-byte keys to 8-byte values, with one
// writer and any number of lock-free readers. It is the storage under Fdb and knows nothing of
// MACs, ports or aging.
//
// Layout: 2^k buckets of one 64-byte cache line each; a bucket is 4 slots, each a 16-byte
// Pair {word, value} read and written in one indivisible access (fdb/pair.h). A key lives in
// one of two buckets chosen by two independent multiply-shift hashes with random multipliers;
// the writer prefers the first. Keys must have bits 60..63 clear (FdbKey guarantees it). The
// stored word is the key plus two flags:
//   bit 62  kUsed      the slot holds a key (an all-zero word is an empty slot)
//   bit 63  kOverflow  in way 0 only: some key whose first bucket is this one lives in its
//                      second bucket. Without it, a key absent from its first bucket is absent.
//
// Sizing: the table has at least twice as many slots as the caller's capacity, so at full
// capacity it is at most half loaded: nearly every key sits in its first bucket and nearly no
// bucket overflows, so a hit and a miss both cost one cache line, and insertions almost never
// need a cuckoo move.
//
// Readers (lookup_bulk): hash the keys, prefetch their first buckets, probe; prefetch and probe
// the second bucket only of a miss whose first bucket overflowed. They write nothing. A key
// moved by the writer between buckets during a lookup could be missed in both, so the writer
// bumps `moves_` before it vacates the old slot and a reader that saw it change re-probes its
// misses (bounded: a miss only floods a frame, it never misdirects one). A hit is always a
// pair that was really stored, because pairs are atomic.
//
// Writer: find, insert, set, erase and iteration, from one thread at a time. An erased slot
// may be reused at once: a reader never holds a reference into a slot beyond its one 16-byte
// load, so there is nothing to reclaim (Fdb uses QSBR for a different guarantee; see fdb.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "fdb/pair.h"

namespace tapswitch {

class MacTable {
 public:
  static constexpr uint64_t kUsed = 1ull << 62;
  static constexpr uint64_t kOverflow = 1ull << 63;
  static constexpr unsigned kWays = 4;       // slots per bucket
  static constexpr unsigned kMaxBulk = 64;   // keys per lookup_bulk call
  static constexpr uint32_t kNone = ~0u;     // "no slot"

  // A table with room for `capacity` keys at half load (at least 2 buckets).
  explicit MacTable(uint32_t capacity);
  ~MacTable();
  MacTable(const MacTable&) = delete;
  MacTable& operator=(const MacTable&) = delete;

  // ---- readers, any thread ----
  // Looks up n <= kMaxBulk keys; values[i] is the value of a hit, `miss` otherwise. Returns
  // the mask of hits.
  uint64_t lookup_bulk(const uint64_t* keys, unsigned n, uint64_t* values, uint64_t miss = 0) const noexcept;

  // ---- the writer, one thread at a time ----
  uint32_t find(uint64_t key) const noexcept;  // slot index, or kNone
  // Inserts a key that is not present. Returns its slot, or kNone when neither bucket nor any
  // cuckoo path of up to kMaxPath moves has room.
  uint32_t insert(uint64_t key, uint64_t value) noexcept;
  void set(uint32_t slot, uint64_t value) noexcept;  // replaces the value of a used slot
  void erase(uint32_t slot) noexcept;
  // The key and value in a slot; key is kNoKey for an empty slot.
  struct Entry {
    uint64_t key;
    uint64_t value;
    bool used() const noexcept { return key != kNoKey; }
  };
  static constexpr uint64_t kNoKey = ~0ull;
  Entry at(uint32_t slot) const noexcept {
    const Pair p = load_pair(&slots()[slot]);
    return p.key & kUsed ? Entry{p.key & kKeyMask, p.value} : Entry{kNoKey, 0};
  }
  uint32_t slot_count() const noexcept { return buckets_ * kWays; }
  size_t bytes() const noexcept { return bytes_; }
  uint64_t relocations() const noexcept { return relocations_; }  // cuckoo moves so far

  static constexpr unsigned kMaxPath = 4;

 private:
  struct alignas(64) Bucket {
    Pair slot[kWays];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  uint32_t first(uint64_t key) const noexcept { return static_cast<uint32_t>((key * mul1_) >> shift_); }
  uint32_t second(uint64_t key, uint32_t b1) const noexcept {
    uint32_t b2 = static_cast<uint32_t>((key * mul2_) >> shift_);
    return b2 == b1 ? b1 ^ 1u : b2;
  }
  uint32_t other(uint64_t key, uint32_t b) const noexcept {
    uint32_t b1 = first(key);
    return b == b1 ? second(key, b1) : b1;
  }
  static constexpr uint64_t kKeyMask = (1ull << 60) - 1;

  int free_way(uint32_t b) const noexcept;
  uint64_t key_in(uint32_t b, unsigned w) const noexcept { return load_pair(&table_[b].slot[w]).key & kKeyMask; }
  // Writes key/value into (b, w) or empties it, keeping the bucket's overflow flag in way 0
  // and the overflow counts of first buckets up to date.
  void place(uint32_t b, unsigned w, uint64_t key, uint64_t value) noexcept;
  void vacate(uint32_t b, unsigned w) noexcept;
  void set_overflow(uint32_t b, int delta) noexcept;
  uint32_t cuckoo(uint64_t key, uint64_t value, uint32_t b1, uint32_t b2) noexcept;
  Pair* slots() const noexcept { return reinterpret_cast<Pair*>(table_); }

  Bucket* table_ = nullptr;
  uint32_t buckets_ = 0;
  unsigned shift_ = 0;
  uint64_t mul1_ = 0, mul2_ = 0;
  uint64_t relocations_ = 0;
  std::unique_ptr<uint16_t[]> overflow_;  // writer only: per bucket, keys of it living elsewhere
  size_t bytes_ = 0;
  alignas(64) std::atomic<uint64_t> moves_{0};  // written only by cuckoo moves; readers poll it
};

}  // namespace tapswitch
