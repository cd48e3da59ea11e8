// FDB microbenchmarks: tapswitch's Fdb against DPDK's rte_hash, same workloads, same run.
//
//   Lookup{Fdb,RteHash,RteHash2x}/N/HIT  bulk lookups of 32 keys in a table of N entries, HIT%
//                                        of them present; items = keys looked up
//   Learn{Fdb,RteHash}/N                 new MACs learned (Fdb: ring + writer; rte_hash: add)
//   FlushAll/N                           one Fdb::flush_all() of N learned entries
//
// RteHash is rte_hash as the FDB used it before: RW_CONCURRENCY_LF | EXT_TABLE, N entries, CRC
// hash. RteHash2x is RW_CONCURRENCY_LF alone with room for 2N, as much memory per entry as
// the Fdb's half-loaded table. After the runs, a table of Fdb/rte_hash lookup ratios is
// printed (from the medians when --benchmark_repetitions is given).
//
// Reproduce (pinned to one core, median of 3):
//   taskset -c 1 build/bench/fdb_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "dpdk/eal.h"
#include "fdb/fdb.h"

using namespace tapswitch;

namespace {

constexpr unsigned kBulk = 32;
constexpr size_t kQueries = 1 << 20;  // a power of two

FdbKey random_key(std::mt19937_64& rng) {
  uint64_t r = rng();
  uint8_t mac[6];
  std::memcpy(mac, &r, 6);
  mac[0] = static_cast<uint8_t>((mac[0] & 0xFE) | 0x02);  // unicast, locally administered
  return FdbKey::make(0, mac);
}

struct Workload {
  std::vector<FdbKey> present, queries;
};

// N distinct keys, and a query stream with hit_pct% of them present.
const Workload& workload(size_t n, unsigned hit_pct) {
  static std::map<std::pair<size_t, unsigned>, Workload> cache;
  auto [it, fresh] = cache.try_emplace({n, hit_pct});
  Workload& w = it->second;
  if (!fresh) return w;
  std::mt19937_64 rng(n * 1000 + hit_pct);
  std::unordered_set<uint64_t> seen;
  while (w.present.size() < n) {
    FdbKey k = random_key(rng);
    if (seen.insert(k.raw).second) w.present.push_back(k);
  }
  w.queries.resize(kQueries);
  for (auto& q : w.queries) {
    if (rng() % 100 < hit_pct) {
      q = w.present[rng() % n];
    } else {
      do q = random_key(rng);
      while (seen.count(q.raw));
    }
  }
  return w;
}

void finish_lookup(benchmark::State& state, uint64_t hits) {
  const double keys = static_cast<double>(state.iterations()) * kBulk;
  state.SetItemsProcessed(static_cast<int64_t>(keys));
  state.counters["hit%"] = keys ? 100.0 * static_cast<double>(hits) / keys : 0;
}

// Fills an Fdb the way the switch does: learn requests applied by the writer.
void fill(Fdb& fdb, const std::vector<FdbKey>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    fdb.request_learn(0, keys[i], static_cast<uint16_t>(i % 64));
    if (i % 1024 == 1023) fdb.process_learning();
  }
  fdb.process_learning();
}

FdbConfig fdb_config(size_t n) {
  FdbConfig c;
  c.capacity = static_cast<uint32_t>(n);
  c.aging = 0;
  return c;
}

void BM_LookupFdb(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n, static_cast<unsigned>(state.range(1)));
  Fdb fdb(fdb_config(n));
  fill(fdb, w.present);
  if (fdb.stats().entries != n) state.SkipWithError("the table did not take every key");
  FdbEntry out[kBulk];
  size_t pos = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += fdb.lookup_bulk(&w.queries[pos], kBulk, out);
    benchmark::DoNotOptimize(out);
    pos = (pos + kBulk) & (kQueries - 1);
  }
  finish_lookup(state, hits);
}

uint32_t crc_hash(const void* key, uint32_t, uint32_t init) {
  uint64_t k;
  std::memcpy(&k, key, sizeof k);
  return rte_hash_crc_8byte(k, init);
}

rte_hash* make_rte_hash(size_t entries, uint8_t flags) {
  static int serial = 0;
  const std::string name = "bench" + std::to_string(serial++);
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = static_cast<uint32_t>(entries);
  p.key_len = sizeof(FdbKey);
  p.hash_func = crc_hash;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = flags;
  return rte_hash_create(&p);
}

void lookup_rte_hash(benchmark::State& state, size_t entries, uint8_t flags) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n, static_cast<unsigned>(state.range(1)));
  rte_hash* h = make_rte_hash(entries, flags);
  if (!h) {
    state.SkipWithError(rte_strerror(rte_errno));
    return;
  }
  for (size_t i = 0; i < n; ++i)
    if (rte_hash_add_key_data(h, &w.present[i], reinterpret_cast<void*>(FdbEntry{uint16_t(i % 64)}.pack())) != 0) {
      state.SkipWithError("rte_hash did not take every key");
      break;
    }
  const void* kp[kBulk];
  void* data[kBulk];
  FdbEntry out[kBulk];
  size_t pos = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    // What the FDB's lookup_bulk did on rte_hash: key pointers in, entries out.
    uint64_t mask = 0;
    for (unsigned i = 0; i < kBulk; ++i) kp[i] = &w.queries[pos + i];
    rte_hash_lookup_bulk_data(h, kp, kBulk, &mask, data);
    for (unsigned i = 0; i < kBulk; ++i)
      out[i] = (mask >> i) & 1 ? FdbEntry::unpack(reinterpret_cast<uintptr_t>(data[i])) : FdbEntry{};
    hits += static_cast<uint64_t>(__builtin_popcountll(mask));
    benchmark::DoNotOptimize(out);
    pos = (pos + kBulk) & (kQueries - 1);
  }
  finish_lookup(state, hits);
  rte_hash_free(h);
}

void BM_LookupRteHash(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  lookup_rte_hash(state, n, RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE);
}

void BM_LookupRteHash2x(benchmark::State& state) {
  lookup_rte_hash(state, 2 * static_cast<size_t>(state.range(0)), RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF);
}

// New MACs per second through the whole learning path: a worker's ring, then the writer.
void BM_LearnFdb(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n, 100);
  Fdb fdb(fdb_config(n));
  size_t pos = 0;
  for (auto _ : state) {
    if (pos == n) {
      state.PauseTiming();
      fdb.flush_all();
      pos = 0;
      state.ResumeTiming();
    }
    for (unsigned i = 0; i < 256; ++i) fdb.request_learn(0, w.present[pos + i], 1);
    fdb.process_learning();
    pos += 256;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 256);
}

void BM_LearnRteHash(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n, 100);
  rte_hash* h = make_rte_hash(n, RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE);
  size_t pos = 0;
  for (auto _ : state) {
    if (pos == n) {
      state.PauseTiming();
      rte_hash_reset(h);
      pos = 0;
      state.ResumeTiming();
    }
    for (unsigned i = 0; i < 256; ++i)
      rte_hash_add_key_data(h, &w.present[pos + i], reinterpret_cast<void*>(FdbEntry{1}.pack()));
    pos += 256;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 256);
  rte_hash_free(h);
}

// How long the writer walks a full table to flush it (readers are never stopped meanwhile).
void BM_FlushAll(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n, 100);
  Fdb fdb(fdb_config(n));
  for (auto _ : state) {
    state.PauseTiming();
    fill(fdb, w.present);
    state.ResumeTiming();
    benchmark::DoNotOptimize(fdb.flush_all());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void lookup_args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1 << 10, 1 << 16, 1 << 20})
    for (int64_t hit : {100, 50, 0}) b->Args({n, hit});
}

BENCHMARK(BM_LookupFdb)->Apply(lookup_args);
BENCHMARK(BM_LookupRteHash)->Apply(lookup_args);
BENCHMARK(BM_LookupRteHash2x)->Apply(lookup_args);
BENCHMARK(BM_LearnFdb)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(BM_LearnRteHash)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(BM_FlushAll)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->Iterations(5);

// The console output, then the Fdb/rte_hash lookup ratios from the same run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(::isatty(1) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      const bool use = r.run_type == Run::RT_Aggregate ? r.aggregate_name == "median" : true;
      auto it = r.counters.find("items_per_second");
      if (use && !r.error_occurred && it != r.counters.end()) rate_[r.run_name.str()] = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nBulk lookup of %u keys, million keys/s (median if repeated) and Fdb / rte_hash ratio:\n", kBulk);
    std::printf("%-10s %5s %10s %10s %12s %8s %10s\n", "entries", "hit%", "Fdb", "rte_hash", "rte_hash2x", "ratio",
                "ratio2x");
    for (int n : {1 << 10, 1 << 16, 1 << 20})
      for (int hit : {100, 50, 0}) {
        const std::string args = "/" + std::to_string(n) + "/" + std::to_string(hit);
        const double f = get("BM_LookupFdb" + args), r = get("BM_LookupRteHash" + args),
                     r2 = get("BM_LookupRteHash2x" + args);
        if (f == 0) continue;
        std::printf("%-10d %5d %10.1f %10.1f %12.1f %7.2fx %9.2fx\n", n, hit, f / 1e6, r / 1e6, r2 / 1e6,
                    r ? f / r : 0.0, r2 ? f / r2 : 0.0);
      }
    std::fflush(stdout);
  }

 private:
  double get(const std::string& name) const {
    auto it = rate_.find(name);
    return it == rate_.end() ? 0 : it->second;
  }
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  Eal eal({"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "2048", "-l", "0", "--log-level=*:error",
           "--file-prefix=fdb-bench-" + std::to_string(::getpid())});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
