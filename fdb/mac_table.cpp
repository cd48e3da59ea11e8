#include "fdb/mac_table.h"

#include <sys/mman.h>

#include <rte_cpuflags.h>
#include <rte_prefetch.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <random>

#include "base/error.h"

namespace tapswitch {

namespace {

// A reader re-probes its misses at most this many more times when a cuckoo move raced with it.
constexpr unsigned kRetries = 8;

uint64_t random_odd() {
  std::random_device rd;
  return ((static_cast<uint64_t>(rd()) << 32) ^ rd()) | 1u;
}

// Zero-filled memory for the table, every page of it resident now. Left to fault in, a page
// would be mapped on first touch: a reader's first lookup in it, or the writer's aging pass,
// each fault about 11 us on a VM with page-table isolation (a 1M-entry table is 8,000 pages),
// and memory the machine lacks would show as an OOM kill later instead of an error now.
void* map_populated(size_t bytes) {
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) fail("cannot allocate {} bytes for the FDB: {}", bytes, std::strerror(errno));
  // Large tables are read at random: transparent huge pages spare most TLB misses.
  if (bytes >= (2u << 20)) ::madvise(mem, bytes, MADV_HUGEPAGE);
  if (::madvise(mem, bytes, MADV_POPULATE_WRITE) == 0) return mem;
  const int err = errno;
  if (err != EINVAL) {  // (EINVAL: a kernel before 5.14; touch the pages instead)
    ::munmap(mem, bytes);
    fail("cannot allocate {} bytes for the FDB: {}", bytes, std::strerror(err));
  }
  for (size_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(mem)[off] = 0;
  return mem;
}

// Half load at full capacity: slots >= 2 * capacity, buckets a power of two (at least 2).
uint64_t buckets_for(uint32_t capacity) noexcept {
  const uint64_t want = (static_cast<uint64_t>(capacity) * 2 + MacTable::kWays - 1) / MacTable::kWays;
  return std::max<uint64_t>(2, std::bit_ceil(want));
}

// One spare bucket past the end, always empty: what a lookup without a candidate way prefetches.
size_t bucket_bytes(uint64_t buckets) noexcept { return (buckets + 1) * 64; }  // 64: sizeof(Bucket)
size_t tag_bytes(uint64_t buckets) noexcept { return (buckets * sizeof(uint32_t) + 4095) & ~size_t{4095}; }

}  // namespace

uint64_t MacTable::footprint(uint32_t capacity) noexcept {
  const uint64_t b = buckets_for(capacity);
  return bucket_bytes(b) + tag_bytes(b) + b * sizeof(uint16_t);
}

MacTable::MacTable(uint32_t capacity) {
  if (!rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX))
    fail("the FDB needs a CPU with AVX (for its 16-byte atomic entries)");
  const uint64_t buckets = buckets_for(capacity);
  if (buckets > (1ull << 30)) fail("FDB capacity {} is too large", capacity);
  buckets_ = static_cast<uint32_t>(buckets);
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(buckets_));
  mul1_ = random_odd();
  do mul2_ = random_odd();
  while (mul2_ == mul1_);

  overflow_ = std::make_unique<uint16_t[]>(buckets_);
  bytes_ = bucket_bytes(buckets_);
  table_ = static_cast<Bucket*>(map_populated(bytes_));  // zero-filled: every slot empty
  tag_bytes_ = tag_bytes(buckets_);
  try {
    tags_ = static_cast<uint32_t*>(map_populated(tag_bytes_));  // zero-filled: no fingerprint, no overflow
  } catch (...) {
    ::munmap(table_, bytes_);
    throw;
  }
}

MacTable::~MacTable() {
  ::munmap(tags_, tag_bytes_);
  ::munmap(table_, bytes_);
}

namespace {

// The ways of a tag that hold a fingerprint (fpx: the fingerprint in every byte): bit 7 of
// each such byte. Exact (no false positives between bytes): with bit 7 masked off, a byte x of
// (tag ^ fpx) is 0..127, and x + 127 sets bit 7 without a carry out exactly when x != 0.
inline uint32_t tag_match(uint32_t tag, uint32_t fpx) noexcept {
  const uint32_t x = (tag & 0x7f7f7f7fu) ^ fpx;
  return ~(x + 0x7f7f7f7fu) & 0x80808080u;
}

// Probes the ways of a bucket named by `ways` (a tag_match mask) for `word` (key | kUsed):
// one atomic pair load each. Returns true and sets `value` on a hit.
inline bool probe(const Pair* slot, uint32_t ways, uint64_t word, uint64_t& value) noexcept {
  for (; ways; ways &= ways - 1) {
    const __m128i p = load_pair_vec(&slot[std::countr_zero(ways) >> 3]);
    if (static_cast<uint64_t>(_mm_cvtsi128_si64(p)) == word) {
      value = static_cast<uint64_t>(_mm_extract_epi64(p, 1));
      return true;
    }
  }
  return false;
}

}  // namespace

uint64_t MacTable::lookup_bulk(const uint64_t* keys, unsigned n, uint64_t* values, uint64_t miss) const noexcept {
  uint32_t b1[kMaxBulk], fpx[kMaxBulk], ways[kMaxBulk], over[kMaxBulk];
  // Stage 0: hash; prefetch the first tags.
  for (unsigned i = 0; i < n; ++i) {
    const uint64_t h = keys[i] * mul1_;
    b1[i] = static_cast<uint32_t>(h >> shift_);
    fpx[i] = fp_of(h) * 0x01010101u;
    rte_prefetch0(&tags_[b1[i]]);
  }
  const uint64_t before = moves_.load(std::memory_order_acquire);
  // (Locals: the tag loads are acquire loads, after which the compiler would reload members.)
  const Bucket* const table = table_;
  const uint32_t spare = buckets_;
  uint32_t* const tags = tags_;
  // Stage 1: read the first tags; prefetch the buckets that hold a candidate way. A key
  // without one prefetches the spare bucket instead, so that the loop has no branch (in a
  // mixed burst, having a candidate is a coin toss).
  uint64_t look = 0, rare = 0;
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t t = std::atomic_ref<uint32_t>(tags[b1[i]]).load(std::memory_order_acquire);
    const uint32_t w = tag_match(t, fpx[i]);
    ways[i] = w;
    over[i] = t & kTagOverflow;
    rte_prefetch0(&table[w ? b1[i] : spare]);
    look |= static_cast<uint64_t>(w != 0) << i;
    rare |= static_cast<uint64_t>(((t & kTagOverflow) | (w & (w - 1))) != 0) << i;
  }
  // Stage 2: probe the first candidate way of the keys that have one, without a branch but
  // the loop's.
  uint64_t hits = 0;
  for (unsigned i = 0; i < n; ++i) values[i] = miss;
  for (uint64_t m = look; m; m &= m - 1) {
    const unsigned i = static_cast<unsigned>(std::countr_zero(m));
    const __m128i v = load_pair_vec(&table[b1[i]].slot[std::countr_zero(ways[i] | 1u << 31) >> 3]);
    const bool hit = static_cast<uint64_t>(_mm_cvtsi128_si64(v)) == (keys[i] | kUsed);
    values[i] = hit ? static_cast<uint64_t>(_mm_extract_epi64(v, 1)) : miss;
    hits |= static_cast<uint64_t>(hit) << i;
  }
  // The rare misses that may still be hits: a second candidate way in the first bucket (at
  // half load, 1.4% of keys share their fingerprint with another key of their bucket), or a
  // first bucket that overflowed (5.6% of buckets; 4% of keys live in their second bucket).
  if (rare & ~hits) {
    uint64_t in_second = 0;
    for (uint64_t m = rare & ~hits; m; m &= m - 1) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(m));
      const bool hit = probe(table[b1[i]].slot, ways[i] & (ways[i] - 1), keys[i] | kUsed, values[i]);
      hits |= static_cast<uint64_t>(hit) << i;
      in_second |= static_cast<uint64_t>(!hit && over[i]) << i;
    }
    if (in_second) hits |= lookup_second(keys, fpx, in_second, values);
  }
  // Every tag and pair load above happens before the second read of the move counter.
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1;
  if (hits != all && moves_.load(std::memory_order_relaxed) != before) hits |= lookup_again(keys, all & ~hits, values);
  return hits;
}

uint64_t MacTable::lookup_second(const uint64_t* keys, const uint32_t* fpx, uint64_t todo, uint64_t* values) const noexcept {
  uint32_t b2[kMaxBulk], ways[kMaxBulk];
  for (uint64_t m = todo; m; m &= m - 1) {
    const unsigned i = static_cast<unsigned>(std::countr_zero(m));
    b2[i] = second(keys[i], first(keys[i]));
    rte_prefetch0(&tags_[b2[i]]);
  }
  uint64_t look = 0, hits = 0;
  for (uint64_t m = todo; m; m &= m - 1) {
    const unsigned i = static_cast<unsigned>(std::countr_zero(m));
    ways[i] = tag_match(load_tag(b2[i]), fpx[i]);
    if (ways[i]) rte_prefetch0(&table_[b2[i]]);
    look |= static_cast<uint64_t>(ways[i] != 0) << i;
  }
  for (uint64_t m = look; m; m &= m - 1) {
    const unsigned i = static_cast<unsigned>(std::countr_zero(m));
    hits |= static_cast<uint64_t>(probe(table_[b2[i]].slot, ways[i], keys[i] | kUsed, values[i])) << i;
  }
  return hits;
}

// The misses of a lookup that raced a cuckoo move, again, key by key (rare).
uint64_t MacTable::lookup_again(const uint64_t* keys, uint64_t todo, uint64_t* values) const noexcept {
  uint64_t hits = 0;
  for (unsigned attempt = 0; attempt < kRetries && todo; ++attempt) {
    const uint64_t before = moves_.load(std::memory_order_acquire);
    for (uint64_t m = todo; m; m &= m - 1) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(m));
      const uint64_t h = keys[i] * mul1_;
      const uint32_t b1 = static_cast<uint32_t>(h >> shift_), fpx = fp_of(h) * 0x01010101u;
      const uint32_t t = load_tag(b1);
      bool hit = probe(table_[b1].slot, tag_match(t, fpx), keys[i] | kUsed, values[i]);
      if (!hit && (t & kTagOverflow)) {
        const uint32_t b2 = second(keys[i], b1);
        hit = probe(table_[b2].slot, tag_match(load_tag(b2), fpx), keys[i] | kUsed, values[i]);
      }
      hits |= static_cast<uint64_t>(hit) << i;
    }
    todo &= ~hits;
    std::atomic_thread_fence(std::memory_order_acquire);
    if (moves_.load(std::memory_order_relaxed) == before) break;
  }
  return hits;
}

int MacTable::free_way(uint32_t b) const noexcept {
  for (unsigned w = 0; w < kWays; ++w)
    if (!(load_pair(&table_[b].slot[w]).key & kUsed)) return static_cast<int>(w);
  return -1;
}

uint32_t MacTable::find(uint64_t key) const noexcept {
  const uint32_t b1 = first(key);
  const uint64_t word = key | kUsed;
  for (uint32_t b : {b1, second(key, b1)})
    for (unsigned w = 0; w < kWays; ++w)
      if (load_pair(&table_[b].slot[w]).key == word) return b * kWays + w;
  return kNone;
}

void MacTable::set_overflow(uint32_t b, int delta) noexcept {
  const bool was = overflow_[b] != 0;
  overflow_[b] = static_cast<uint16_t>(overflow_[b] + delta);
  const bool is = overflow_[b] != 0;
  if (was != is) store_tag(b, is ? load_tag(b) | kTagOverflow : load_tag(b) & ~kTagOverflow);
}

void MacTable::place(uint32_t b, unsigned w, uint64_t key, uint64_t value) noexcept {
  const uint64_t h = key * mul1_;
  const uint32_t home = static_cast<uint32_t>(h >> shift_);
  // The flag goes up before the key can be found only in its second bucket ...
  if (b != home) set_overflow(home, +1);
  store_pair(&table_[b].slot[w], key | kUsed, value);
  // ... and the fingerprint after the pair: a reader that sees it sees the pair (release).
  store_tag(b, (load_tag(b) & ~(0x7fu << (8 * w))) | fp_of(h) << (8 * w));
}

void MacTable::vacate(uint32_t b, unsigned w) noexcept {
  const uint64_t key = key_in(b, w);
  store_tag(b, load_tag(b) & ~(0x7fu << (8 * w)));
  store_pair(&table_[b].slot[w], 0, 0);
  // ... and comes down only after the key has left.
  const uint32_t home = first(key);
  if (b != home) set_overflow(home, -1);
}

uint32_t MacTable::insert(uint64_t key, uint64_t value) noexcept {
  const uint32_t b1 = first(key), b2 = second(key, b1);
  for (uint32_t b : {b1, b2}) {
    const int w = free_way(b);
    if (w >= 0) {
      place(b, static_cast<unsigned>(w), key, value);
      return b * kWays + static_cast<uint32_t>(w);
    }
  }
  return cuckoo(key, value, b1, b2);
}

// Breadth-first search for the shortest chain of moves that frees a slot in b1 or b2, then
// the moves, last one first, so that every key stays findable throughout: a key is copied
// into its other bucket before its old slot is emptied.
uint32_t MacTable::cuckoo(uint64_t key, uint64_t value, uint32_t b1, uint32_t b2) noexcept {
  struct Node {
    uint32_t bucket;
    int16_t parent;  // index in q, -1 for a root
    uint8_t way;     // the way in the parent's bucket whose key leads here
    uint8_t depth;
  };
  constexpr unsigned kMaxNodes = 2 * (1 + 4 + 16 + 64);
  Node q[kMaxNodes];
  unsigned head = 0, tail = 0;
  q[tail++] = {b1, -1, 0, 0};
  q[tail++] = {b2, -1, 0, 0};
  while (head < tail) {
    const unsigned ni = head++;
    const Node n = q[ni];
    for (unsigned w = 0; w < kWays; ++w) {
      const uint32_t alt = other(key_in(n.bucket, w), n.bucket);
      const int fw = free_way(alt);
      if (fw >= 0) {
        // Execute: (n.bucket, w) -> (alt, fw), then up the chain of parents.
        uint32_t to_b = alt, to_w = static_cast<uint32_t>(fw);
        uint32_t from_b = n.bucket, from_w = w;
        int cur = static_cast<int>(ni);
        for (;;) {
          const Pair p = load_pair(&table_[from_b].slot[from_w]);
          place(to_b, to_w, p.key & kKeyMask, p.value);
          moves_.fetch_add(1, std::memory_order_seq_cst);  // before the old copy disappears
          vacate(from_b, from_w);
          ++relocations_;
          const Node& c = q[cur];
          if (c.parent < 0) break;
          to_b = from_b;
          to_w = from_w;
          from_b = q[c.parent].bucket;
          from_w = c.way;
          cur = c.parent;
        }
        place(from_b, from_w, key, value);
        return from_b * kWays + from_w;
      }
      if (n.depth + 1u >= kMaxPath || tail >= kMaxNodes) continue;
      bool loop = false;  // never revisit a bucket already on this chain
      for (int a = static_cast<int>(ni); a >= 0 && !loop; a = q[a].parent) loop = q[a].bucket == alt;
      if (!loop) q[tail++] = {alt, static_cast<int16_t>(ni), static_cast<uint8_t>(w), static_cast<uint8_t>(n.depth + 1)};
    }
  }
  return kNone;
}

void MacTable::set(uint32_t slot, uint64_t value) noexcept {
  Pair* p = &slots()[slot];
  store_pair(p, load_pair(p).key, value);
}

void MacTable::erase(uint32_t slot) noexcept { vacate(slot / kWays, slot % kWays); }

}  // namespace tapswitch
