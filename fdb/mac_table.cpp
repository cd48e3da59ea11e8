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

// A reader re-probes its misses at most this many times when a cuckoo move raced with it.
constexpr unsigned kRetries = 8;

uint64_t random_odd() {
  std::random_device rd;
  return ((static_cast<uint64_t>(rd()) << 32) ^ rd()) | 1u;
}

}  // namespace

MacTable::MacTable(uint32_t capacity) {
  if (!rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX))
    fail("the FDB needs a CPU with AVX (for its 16-byte atomic entries)");
  // Half load at full capacity: slots >= 2 * capacity, buckets a power of two.
  const uint64_t want = (static_cast<uint64_t>(capacity) * 2 + kWays - 1) / kWays;
  if (want > (1ull << 30)) fail("FDB capacity {} is too large", capacity);
  buckets_ = std::max<uint32_t>(2, static_cast<uint32_t>(std::bit_ceil(want)));
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(buckets_));
  mul1_ = random_odd();
  do mul2_ = random_odd();
  while (mul2_ == mul1_);

  bytes_ = static_cast<size_t>(buckets_) * sizeof(Bucket);
  void* mem = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) fail("cannot allocate {} bytes for the FDB: {}", bytes_, std::strerror(errno));
  // Large tables are read at random: transparent huge pages spare most TLB misses.
  if (bytes_ >= (2u << 20)) ::madvise(mem, bytes_, MADV_HUGEPAGE);
  table_ = static_cast<Bucket*>(mem);  // zero-filled: every slot empty, no overflow
  overflow_ = std::make_unique<uint16_t[]>(buckets_);
}

MacTable::~MacTable() { ::munmap(table_, bytes_); }

namespace {

// Probes one bucket for `word` (key | kUsed) without a branch: four atomic pair loads, two
// compares of two keys each. Returns true and sets `value` on a hit (leaves it on a miss);
// `overflow` tells whether way 0 carries the overflow flag.
inline bool probe(const Pair* slot, uint64_t word, uint64_t& value, bool& overflow) noexcept {
  const __m128i p0 = load_pair_vec(&slot[0]), p1 = load_pair_vec(&slot[1]);
  const __m128i p2 = load_pair_vec(&slot[2]), p3 = load_pair_vec(&slot[3]);
  const __m128i want = _mm_set1_epi64x(static_cast<long long>(word));
  const __m128i no_flag = _mm_set_epi64x(-1, static_cast<long long>(~MacTable::kOverflow));
  const __m128i k01 = _mm_and_si128(_mm_unpacklo_epi64(p0, p1), no_flag);
  const __m128i k23 = _mm_unpacklo_epi64(p2, p3);
  overflow = _mm_cvtsi128_si64(p0) < 0;  // bit 63
  const int m = _mm_movemask_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(k01, want))) |
                _mm_movemask_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(k23, want))) << 2;
  alignas(16) uint64_t v[5];
  _mm_store_si128(reinterpret_cast<__m128i*>(&v[0]), _mm_unpackhi_epi64(p0, p1));
  _mm_store_si128(reinterpret_cast<__m128i*>(&v[2]), _mm_unpackhi_epi64(p2, p3));
  v[4] = value;
  value = v[std::countr_zero(static_cast<unsigned>(m) | 16u)];
  return m != 0;
}

}  // namespace

uint64_t MacTable::lookup_bulk(const uint64_t* keys, unsigned n, uint64_t* values, uint64_t miss) const noexcept {
  uint32_t b1[kMaxBulk], b2[kMaxBulk];
  for (unsigned i = 0; i < n; ++i) {
    values[i] = miss;
    b1[i] = first(keys[i]);
    rte_prefetch0(&table_[b1[i]]);
  }
  const uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1;
  uint64_t hits = 0, todo = all;
  for (unsigned attempt = 0;; ++attempt) {
    const uint64_t before = moves_.load(std::memory_order_acquire);
    uint64_t again = 0;  // missed in a first bucket that overflowed
    for (uint64_t m = todo; m; m &= m - 1) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(m));
      bool overflow;
      const bool hit = probe(table_[b1[i]].slot, keys[i] | kUsed, values[i], overflow);
      hits |= static_cast<uint64_t>(hit) << i;
      again |= static_cast<uint64_t>(!hit & overflow) << i;
    }
    for (uint64_t m = again; m; m &= m - 1) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(m));
      b2[i] = second(keys[i], b1[i]);
      rte_prefetch0(&table_[b2[i]]);
    }
    for (uint64_t m = again; m; m &= m - 1) {
      const unsigned i = static_cast<unsigned>(std::countr_zero(m));
      bool overflow;
      hits |= static_cast<uint64_t>(probe(table_[b2[i]].slot, keys[i] | kUsed, values[i], overflow)) << i;
    }
    todo = all & ~hits;
    // Every pair load above happens before the second read of the move counter.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!todo || moves_.load(std::memory_order_relaxed) == before || attempt == kRetries) break;
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
      if ((load_pair(&table_[b].slot[w]).key & ~kOverflow) == word) return b * kWays + w;
  return kNone;
}

void MacTable::set_overflow(uint32_t b, int delta) noexcept {
  const bool was = overflow_[b] != 0;
  overflow_[b] = static_cast<uint16_t>(overflow_[b] + delta);
  const bool is = overflow_[b] != 0;
  if (was == is) return;
  Pair* p = &table_[b].slot[0];
  const Pair cur = load_pair(p);
  store_pair(p, is ? cur.key | kOverflow : cur.key & ~kOverflow, cur.value);
}

void MacTable::place(uint32_t b, unsigned w, uint64_t key, uint64_t value) noexcept {
  const uint32_t home = first(key);
  // The flag goes up before the key can be found only in its second bucket.
  if (b != home) set_overflow(home, +1);
  const uint64_t flag = w == 0 && overflow_[b] ? kOverflow : 0;
  store_pair(&table_[b].slot[w], key | kUsed | flag, value);
}

void MacTable::vacate(uint32_t b, unsigned w) noexcept {
  const uint64_t key = key_in(b, w);
  const uint64_t flag = w == 0 && overflow_[b] ? kOverflow : 0;
  store_pair(&table_[b].slot[w], flag, 0);
  // ... and comes down only after it has left.
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
