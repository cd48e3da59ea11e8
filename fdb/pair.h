// Pair: one 16-byte (key, value) slot of the MAC table, loaded and stored as a single
// indivisible access.
//
// Why this is atomic: Intel (SDM vol. 3A, "Guaranteed atomic operations") and AMD (APM vol. 2,
// §7.3.2 "Access atomicity") both guarantee that on every processor reporting AVX, an aligned
// 16-byte MOVDQA/VMOVDQA load or store to cacheable memory is performed as one access. GCC's
// and LLVM's 16-byte atomics rely on the same guarantee. MacTable checks for AVX when it is
// built, so a reader always sees a key together with the value stored with it, never half of
// an older pair: entries cannot be torn.
//
// ThreadSanitizer cannot see that guarantee (to it these are plain 16-byte accesses), so the
// two functions are excluded from its instrumentation; every other shared word in the FDB is a
// std::atomic and stays checked. See tests/unit/tsan.supp.
#pragma once

#include <smmintrin.h>

#include <cstdint>

namespace tapswitch {

struct alignas(16) Pair {
  uint64_t key;
  uint64_t value;
};
static_assert(sizeof(Pair) == 16);

#if defined(__x86_64__)
#define TAPSWITCH_NO_TSAN __attribute__((no_sanitize("thread")))

// The pair as one vector register: key in the low lane, value in the high lane.
TAPSWITCH_NO_TSAN inline __m128i load_pair_vec(const Pair* p) noexcept {
  return *reinterpret_cast<const volatile __m128i*>(p);
}

TAPSWITCH_NO_TSAN inline Pair load_pair(const Pair* p) noexcept {
  // volatile: exactly one 16-byte load, never split, repeated or cached by the compiler.
  __m128i v = *reinterpret_cast<const volatile __m128i*>(p);
  Pair out;
  _mm_store_si128(reinterpret_cast<__m128i*>(&out), v);
  return out;
}

TAPSWITCH_NO_TSAN inline void store_pair(Pair* p, uint64_t key, uint64_t value) noexcept {
  __m128i v = _mm_set_epi64x(static_cast<long long>(value), static_cast<long long>(key));
  *reinterpret_cast<volatile __m128i*>(p) = v;
}
#else
#error "the MAC table needs 16-byte single-copy atomic loads and stores (x86-64 with AVX)"
#endif

}  // namespace tapswitch
