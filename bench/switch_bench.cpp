// switch_bench: the switching core alone (Forwarder + Fdb), on in-memory ports, one core.
//
//   build/bench/switch_bench [--benchmark_filter=...]   (pin it: taskset -c 1 ...)
//
// Each benchmark circulates a fixed set of 60-byte frames through N RingPorts (bench/ring_port.h):
// per round, the loop of switch/worker.cpp (rx_burst of 32 on every port, Forwarder::process,
// Forwarder::flush), then the Wire recycles what was sent. Learning is on: the FDB starts empty
// and learns every host from the traffic; the writer side (Fdb::process_learning, the control
// thread's job in the daemon) runs on the same core every 256 rounds, so its cost is included.
//
// Arguments: ports, flood percent (frames to the broadcast address; the rest are unicast to a
// host on another port), hosts (MACs) per port.
// Counters: items_per_second = frames switched per second on this core (rx side); out_per_second
// = frames leaving the switch (a flood leaves N-1 times). Rates use CPU time, so a core shared
// with other processes still reports what the switch does per core-second.
// BM_WireOnly runs the same harness with no switch (port i straight to port i+1): the harness's
// own cost, to subtract when comparing with a target.
#include <sched.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <vector>

#include "bench/ring_port.h"
#include "dpdk/eal.h"
#include "dpdk/pkt_pool.h"
#include "fdb/fdb.h"
#include "switch/forwarder.h"

namespace tapswitch::bench {
namespace {

constexpr unsigned kFramesPerPort = 256;  // frames circulating per port
constexpr uint16_t kFrameLen = 60;
constexpr unsigned kLearnEvery = 256;     // rounds between writer passes

std::unique_ptr<Eal> g_eal;
std::unique_ptr<PktPool> g_pool;

void host_mac(uint8_t* out, unsigned port, unsigned host) {
  const uint8_t m[6] = {0x02, 0x00, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port),
                        static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)};
  std::memcpy(out, m, 6);
}

// Frame k of port `in`: from host k%hosts of `in`, to the broadcast address for flood_pct% of
// the frames, otherwise to a host on another port (the ports and hosts taken in turn).
rte_mbuf* make_frame(unsigned in, unsigned k, unsigned n_ports, unsigned hosts, unsigned flood_pct) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool->get());
  if (!m) return nullptr;
  uint8_t* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kFrameLen));
  std::memset(p, 0x41, kFrameLen);
  if (k % 100 < flood_pct) {
    std::memset(p, 0xff, 6);
  } else {
    const unsigned out = (in + 1 + k % (n_ports - 1)) % n_ports;
    host_mac(p, out, (k / (n_ports - 1)) % hosts);
  }
  host_mac(p + 6, in, k % hosts);
  p[12] = 0x88;  // IEEE local experimental ethertype
  p[13] = 0xb5;
  m->port = static_cast<uint16_t>(in);  // the Wire sends it back here
  return m;
}

struct Rig {
  Rig(unsigned n_ports, unsigned hosts, unsigned flood_pct) {
    FdbConfig fc;
    fc.capacity = std::max(65536u, 2 * n_ports * hosts);
    fdb = std::make_unique<Fdb>(fc);
    counters = std::make_unique<WorkerCounters>();
    fwd = std::make_unique<Forwarder>(0, *fdb, *counters, g_pool->get());
    const unsigned ring = rte_align32pow2(std::max(kFramesPerPort, kBurst * n_ports) + 1);
    std::vector<TxTarget> tx;
    for (unsigned i = 0; i < n_ports; ++i) {
      ports.push_back(std::make_unique<RingPort>("r" + std::to_string(i), ring));
      tx.push_back({static_cast<uint16_t>(i), ports.back().get(), 0});
    }
    fwd->set_ports(tx);
    for (unsigned i = 0; i < n_ports; ++i) {
      for (unsigned k = 0; k < kFramesPerPort; ++k) {
        rte_mbuf* m = make_frame(i, k, n_ports, hosts, flood_pct);
        if (!m) {
          ok = false;
          return;
        }
        rte_ring_sp_enqueue(ports[i]->rx_ring(), m);
      }
    }
  }
  ~Rig() {
    fwd->flush();
    wire.deliver();
    fwd.reset();
    ports.clear();
  }

  // One round of the worker loop over every port, then the wire. Returns frames received.
  [[gnu::noinline]] unsigned round() noexcept {  // not inlined: a profiler can select it
    rte_mbuf* pkts[kBurst];
    unsigned got = 0;
    for (uint16_t i = 0; i < ports.size(); ++i) {
      uint16_t n = ports[i]->rx_burst(0, pkts, kBurst);
      if (n == 0) continue;
      got += n;
      fwd->process(i, pkts, n);
      fwd->flush();
    }
    out += wire.deliver();
    return got;
  }

  bool ok = true;
  uint64_t out = 0;
  std::unique_ptr<Fdb> fdb;
  std::unique_ptr<WorkerCounters> counters;
  std::unique_ptr<Forwarder> fwd;
  std::vector<std::unique_ptr<RingPort>> ports;
  Wire wire{ports};
};

void report(benchmark::State& state, uint64_t frames, uint64_t out) {
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.counters["out_per_second"] = benchmark::Counter(static_cast<double>(out), benchmark::Counter::kIsRate);
}

void BM_Switch(benchmark::State& state) {
  const auto n_ports = static_cast<unsigned>(state.range(0));
  const auto flood_pct = static_cast<unsigned>(state.range(1));
  const auto hosts = static_cast<unsigned>(state.range(2));
  Rig rig(n_ports, hosts, flood_pct);
  if (!rig.ok) {
    state.SkipWithError("mbuf pool too small");
    return;
  }
  // Warm up: learn every host, then settle.
  for (unsigned r = 0; r < 64 + hosts; ++r) {
    rig.round();
    if (r % 8 == 0) rig.fdb->process_learning();
  }
  rig.fdb->process_learning();
  rig.out = 0;
  uint64_t frames = 0, rounds = 0;
  for (auto _ : state) {
    frames += rig.round();
    if (++rounds % kLearnEvery == 0) rig.fdb->process_learning();
  }
  report(state, frames, rig.out);
  const FdbStats fs = rig.fdb->stats();
  state.counters["fdb_entries"] = static_cast<double>(fs.entries);
  state.counters["miss_pct"] =
      fs.hits + fs.misses ? 100.0 * static_cast<double>(fs.misses) / static_cast<double>(fs.hits + fs.misses) : 0;
}

void BM_WireOnly(benchmark::State& state) {
  const auto n_ports = static_cast<unsigned>(state.range(0));
  Rig rig(n_ports, 1, 0);
  if (!rig.ok) {
    state.SkipWithError("mbuf pool too small");
    return;
  }
  rte_mbuf* pkts[kBurst];
  uint64_t frames = 0;
  for (auto _ : state) {
    for (unsigned i = 0; i < n_ports; ++i) {
      uint16_t n = rig.ports[i]->rx_burst(0, pkts, kBurst);
      frames += n;
      uint16_t sent = rig.ports[(i + 1) % n_ports]->tx_burst(0, pkts, n);
      if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
    rig.out += rig.wire.deliver();
  }
  report(state, frames, rig.out);
}

// ports x flood% x hosts per port
BENCHMARK(BM_Switch)
    ->ArgNames({"ports", "flood_pct", "hosts"})
    ->ArgsProduct({{2, 4, 16, 64}, {0, 10, 100}, {1, 256}})
    ->MinTime(0.5);
BENCHMARK(BM_WireOnly)->ArgNames({"ports"})->Arg(2)->Arg(16)->Arg(64)->MinTime(0.5);

unsigned first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) return c;
  return 0;
}

}  // namespace
}  // namespace tapswitch::bench

int main(int argc, char** argv) {
  using namespace tapswitch::bench;
  benchmark::Initialize(&argc, argv);
  spdlog::set_level(spdlog::level::warn);
  const unsigned cpu = first_allowed_cpu();
  try {
    g_eal = std::make_unique<tapswitch::Eal>(std::vector<std::string>{
        "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "512",
        "--lcores=0@(" + std::to_string(cpu) + ")", "--log-level=*:error",
        "--file-prefix=switch_bench-" + std::to_string(::getpid())});
    // Enough for 64 ports x 256 frames in flight, plus the pool's per-lcore cache.
    g_pool = std::make_unique<tapswitch::PktPool>("bench", 65536, RTE_MBUF_DEFAULT_BUF_SIZE);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switch_bench: %s\n", e.what());
    return 2;
  }
  benchmark::AddCustomContext("pinned_cpu", std::to_string(cpu));
  benchmark::AddCustomContext("frame_bytes", std::to_string(kFrameLen));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_pool.reset();
  g_eal.reset();
  return 0;
}
