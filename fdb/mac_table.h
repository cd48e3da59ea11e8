// MacTable: a fixed-size two-choice cuckoo hash from 8-byte keys to 8-byte values, with one
// writer and any number of lock-free readers. It is the storage under Fdb and knows nothing of
// MACs, ports or aging.
//
// Layout: 2^k buckets of one 64-byte cache line each; a bucket is 4 slots, each a 16-byte
// Pair {word, value} read and written in one indivisible access (fdb/pair.h). A key lives in
// one of two buckets chosen by two independent multiply-shift hashes with random multipliers;
// the writer prefers the first. Keys must have bits 60..63 clear (FdbKey guarantees it). The
// stored word is the key plus bit 62, kUsed (an all-zero word is an empty slot).
//
// Summary: beside the buckets, one 32-bit tag word per bucket (4 bytes against 64, so 2 MB for
// a 1M-entry table, which stays in the cache while the table does not). Byte w of a bucket's
// tag holds in bits 0..6 the 7-bit fingerprint (1..127, from the first hash's bits below the
// bucket index) of the key in way w, 0 when the way is empty; bit 7 of byte 0 is the overflow
// flag: some key whose first bucket is this one lives in its second bucket. Without it, a key
// absent from its first bucket is absent. A reader reads a bucket's line only when its tag
// holds the key's fingerprint, so a miss costs a cached tag read and, for about 1 miss in 64
// at half load, one line of the table.
//
// Sizing: the table has at least twice as many slots as the caller's capacity, so at full
// capacity it is at most half loaded: nearly every key sits in its first bucket and nearly no
// bucket overflows, so a hit costs one tag and one line, and insertions almost never need a
// cuckoo move.
//
// Readers (lookup_bulk), in stages over the burst so that the cache misses overlap: hash the
// keys and prefetch their first tags; read the tags and prefetch the buckets that hold a
// candidate way (a key without one prefetches the spare bucket past the end, always empty, so
// that the loop has no branch); probe the first candidate way of each key. Then the rare rest:
// further candidate ways, and for a miss whose first bucket overflowed, the second tag and
// bucket, staged the same way. Readers write nothing. Any hit is a pair that was really
// stored: pairs are atomic and the whole key is compared, the tag only decides which lines to
// read. The writer keeps every tag a superset of what a reader must find:
//   - placing a key, it stores the pair, then the tag with its fingerprint (release), and sets
//     the home bucket's overflow flag before the key can be found only in its second bucket;
//   - vacating a slot, it clears the fingerprint, then the pair, then the home overflow flag;
//   - a tag is one atomic word that only the writer stores, so fingerprints of keys that stay
//     put are in every version of it a reader can load.
// So a stale tag can only make a reader read a line for nothing (the key compare rejects it)
// or miss a key being inserted or removed at that moment, which the FDB allows (the frame
// floods). A key moved by the writer between buckets during a lookup could be missed in both,
// so the writer bumps `moves_` after the key is complete in its new slot (pair, tag, overflow
// flag) and before its old fingerprint and pair are cleared; a reader that saw the counter
// change re-probes its misses from their tags, key by key (bounded: a miss only floods a
// frame, it never misdirects one).
//
// Memory: both arrays are mapped and populated at construction (transparent huge pages from
// 2 MB), so no lookup or aging pass ever takes a page fault.
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
  static constexpr uint32_t kTagOverflow = 0x80;  // in a bucket's tag word
  static constexpr unsigned kWays = 4;       // slots per bucket
  static constexpr unsigned kMaxBulk = 64;   // keys per lookup_bulk call
  static constexpr uint32_t kNone = ~0u;     // "no slot"

  // A table with room for `capacity` keys at half load (at least 2 buckets).
  explicit MacTable(uint32_t capacity);
  // What a table of `capacity` keys takes, in bytes: its mappings (bytes()) and its overflow
  // counts. All of it is resident from the start, outside DPDK's memory.
  static uint64_t footprint(uint32_t capacity) noexcept;
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
  // Whether `slot` starts a bucket that holds no key (its tag has no fingerprint), so that a
  // walk over the slots can step over the bucket's kWays slots without reading its line:
  // exact for the writer, which keeps the tags; for another thread an entry being inserted may
  // be missed, as by a lookup.
  bool empty_bucket_at(uint32_t slot) const noexcept {
    return slot % kWays == 0 && (load_tag(slot / kWays) & 0x7f7f7f7fu) == 0;
  }
  size_t bytes() const noexcept { return bytes_ + tag_bytes_; }  // buckets and tags
  // The fingerprint a key has in any bucket's tag (1..127), and a bucket's tag word: for
  // tests that check the summary against the table.
  uint32_t fingerprint(uint64_t key) const noexcept { return fp_of(key * mul1_); }
  uint32_t tag(uint32_t bucket) const noexcept { return load_tag(bucket); }
  uint32_t bucket_count() const noexcept { return buckets_; }
  uint32_t first_bucket(uint64_t key) const noexcept { return first(key); }
  uint32_t second_bucket(uint64_t key) const noexcept { return second(key, first(key)); }
  uint64_t relocations() const noexcept { return relocations_; }  // cuckoo moves so far

  static constexpr unsigned kMaxPath = 4;

 private:
  struct alignas(64) Bucket {
    Pair slot[kWays];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  uint32_t first(uint64_t key) const noexcept { return static_cast<uint32_t>((key * mul1_) >> shift_); }
  // 7 bits of the first hash below the bucket index, mapped onto 1..127 (0 is an empty way).
  uint32_t fp_of(uint64_t h1) const noexcept {
    const uint32_t x = static_cast<uint32_t>(h1 >> (shift_ - 7)) & 0x7f;
    return x + (x == 0);
  }
  uint32_t load_tag(uint32_t b) const noexcept { return std::atomic_ref<uint32_t>(tags_[b]).load(std::memory_order_acquire); }
  void store_tag(uint32_t b, uint32_t t) noexcept { std::atomic_ref<uint32_t>(tags_[b]).store(t, std::memory_order_release); }
  uint32_t second(uint64_t key, uint32_t b1) const noexcept {
    uint32_t b2 = static_cast<uint32_t>((key * mul2_) >> shift_);
    return b2 == b1 ? b1 ^ 1u : b2;
  }
  uint32_t other(uint64_t key, uint32_t b) const noexcept {
    uint32_t b1 = first(key);
    return b == b1 ? second(key, b1) : b1;
  }
  static constexpr uint64_t kKeyMask = (1ull << 60) - 1;

  // lookup_bulk's rare paths: second buckets, and misses again after a cuckoo move raced.
  uint64_t lookup_second(const uint64_t* keys, const uint32_t* fpx, uint64_t todo, uint64_t* values) const noexcept;
  uint64_t lookup_again(const uint64_t* keys, uint64_t todo, uint64_t* values) const noexcept;
  int free_way(uint32_t b) const noexcept;
  uint64_t key_in(uint32_t b, unsigned w) const noexcept { return load_pair(&table_[b].slot[w]).key & kKeyMask; }
  // Writes key/value into (b, w) or empties it, keeping the tags (fingerprints, overflow
  // flags) and the overflow counts of first buckets up to date.
  void place(uint32_t b, unsigned w, uint64_t key, uint64_t value) noexcept;
  void vacate(uint32_t b, unsigned w) noexcept;
  void set_overflow(uint32_t b, int delta) noexcept;
  uint32_t cuckoo(uint64_t key, uint64_t value, uint32_t b1, uint32_t b2) noexcept;
  Pair* slots() const noexcept { return reinterpret_cast<Pair*>(table_); }

  Bucket* table_ = nullptr;
  uint32_t* tags_ = nullptr;  // one per bucket; accessed through std::atomic_ref only
  uint32_t buckets_ = 0;
  unsigned shift_ = 0;
  uint64_t mul1_ = 0, mul2_ = 0;
  uint64_t relocations_ = 0;
  std::unique_ptr<uint16_t[]> overflow_;  // writer only: per bucket, keys of it living elsewhere
  size_t bytes_ = 0, tag_bytes_ = 0;
  alignas(64) std::atomic<uint64_t> moves_{0};  // written only by cuckoo moves; readers poll it
};

}  // namespace tapswitch
