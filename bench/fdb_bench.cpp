// Quick comparison while designing (replaced by the full benchmark).
#include <benchmark/benchmark.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <cstring>
#include <memory>
#include <random>
#include <unordered_set>
#include <vector>

#include "dpdk/eal.h"
#include "fdb/mac_table.h"

using namespace tapswitch;

namespace {

constexpr unsigned kBurst = 32;
constexpr size_t kQueries = 1 << 20;

struct Keys {
  std::vector<uint64_t> present, queries;
};

uint64_t rand_key(std::mt19937_64& rng) { return rng() & 0x0FFF'FFFF'FFFF'FFFFull; }

Keys make_keys(size_t n, unsigned hit_pct) {
  std::mt19937_64 rng(n * 131 + hit_pct);
  Keys k;
  std::unordered_set<uint64_t> seen;
  while (k.present.size() < n) {
    uint64_t x = rand_key(rng);
    if (seen.insert(x).second) k.present.push_back(x);
  }
  k.queries.resize(kQueries);
  for (auto& q : k.queries) {
    if (rng() % 100 < hit_pct) {
      q = k.present[rng() % n];
    } else {
      do q = rand_key(rng);
      while (seen.count(q));
    }
  }
  return k;
}

void BM_MacTable(benchmark::State& state) {
  const size_t n = state.range(0);
  Keys k = make_keys(n, state.range(1));
  MacTable t(n);
  for (auto x : k.present)
    if (t.insert(x, x + 1) == MacTable::kNone) state.SkipWithError("insert failed");
  uint64_t vals[kBurst];
  size_t pos = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += std::popcount(t.lookup_bulk(&k.queries[pos], kBurst, vals));
    benchmark::DoNotOptimize(vals);
    pos = (pos + kBurst) & (kQueries - 1);
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  state.counters["hit"] = double(hits) / (state.iterations() * kBurst);
}

uint32_t crc_hash(const void* key, uint32_t, uint32_t init) {
  uint64_t k;
  std::memcpy(&k, key, sizeof k);
  return rte_hash_crc_8byte(k, init);
}

void BM_RteHash(benchmark::State& state) {
  const size_t n = state.range(0);
  Keys k = make_keys(n, state.range(1));
  static int serial = 0;
  std::string name = "bh" + std::to_string(serial++);
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = n;
  p.key_len = 8;
  p.hash_func = crc_hash;
  p.socket_id = 0;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (!h) {
    state.SkipWithError(rte_strerror(rte_errno));
    return;
  }
  for (auto& x : k.present)
    if (rte_hash_add_key_data(h, &x, reinterpret_cast<void*>(x + 1)) < 0) state.SkipWithError("add failed");
  const void* kp[kBurst];
  void* data[kBurst];
  size_t pos = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    uint64_t mask = 0;
    for (unsigned i = 0; i < kBurst; ++i) kp[i] = &k.queries[pos + i];
    rte_hash_lookup_bulk_data(h, kp, kBurst, &mask, data);
    hits += std::popcount(mask);
    benchmark::DoNotOptimize(data);
    pos = (pos + kBurst) & (kQueries - 1);
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  state.counters["hit"] = double(hits) / (state.iterations() * kBurst);
  rte_hash_free(h);
}

void args(benchmark::internal::Benchmark* b) {
  for (long n : {1 << 10, 1 << 16, 1 << 20})
    for (long hit : {100, 50, 0}) b->Args({n, hit});
}

BENCHMARK(BM_MacTable)->Apply(args);
BENCHMARK(BM_RteHash)->Apply(args);

}  // namespace

int main(int argc, char** argv) {
  Eal eal({"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "1024", "-l", "0",
           "--log-level=*:error", "--file-prefix=fdbbench-" + std::to_string(::getpid())});
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
