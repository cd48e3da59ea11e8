// ntfwd: the plain DPDK net_tap io-forward baseline of the benchmark suite.
//
//   ntfwd [--cpu N] [--memory MB] IFACE_A IFACE_B
//
// Two net_tap ports (kernel interfaces IFACE_A and IFACE_B, created by the driver), and one
// loop on one pinned core that moves every burst received on one port to the other with
// rte_eth_rx_burst/rte_eth_tx_burst, freeing what the tx queue does not take. No learning, no
// lookup, no copy: what testpmd's io forwarding mode does, and nothing more. It stands in for
// dpdk-testpmd, which Debian's dpdk package does not ship on this machine.
//
// It stops cleanly on SIGTERM or SIGINT (ports stopped and closed, pool freed, EAL cleaned up)
// and then prints one JSON line of counters on stdout. Exit codes: 0 after a clean stop, 2 for
// bad arguments or a start-up failure (one line on stderr names it).
#include <signal.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "base/error.h"
#include "dpdk/eal.h"
#include "dpdk/pkt_pool.h"

using tapswitch::fail;

namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kDesc = 512;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
  unsigned cpu = 1;
  unsigned memory_mb = 256;
  std::string iface[2];
};

Options parse(int argc, char** argv) {
  Options o;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> unsigned {
      if (++i >= argc) fail("{} needs a value", a);
      char* end = nullptr;
      unsigned long v = std::strtoul(argv[i], &end, 10);
      if (!*argv[i] || *end) fail("{}: '{}' is not a number", a, argv[i]);
      return static_cast<unsigned>(v);
    };
    if (a == "--cpu") {
      o.cpu = value();
    } else if (a == "--memory") {
      o.memory_mb = value();
    } else if (a == "-h" || a == "--help") {
      std::puts("Usage: ntfwd [--cpu N] [--memory MB] IFACE_A IFACE_B\n"
                "Forwards every frame between two net_tap ports on one pinned core.");
      std::exit(0);
    } else if (a.rfind("-", 0) == 0) {
      fail("unknown option '{}'", a);
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 2) fail("give exactly two interface names (see --help)");
  o.iface[0] = pos[0];
  o.iface[1] = pos[1];
  return o;
}

// One started net_tap ethdev; stopped and closed on destruction.
class TapDev {
 public:
  TapDev(uint16_t id, rte_mempool* pool) : id_(id) {
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(id_, 1, 1, &conf);
    if (rc != 0) fail("port {}: configure: {}", id_, rte_strerror(-rc));
    uint16_t nrx = kDesc, ntx = kDesc;
    rte_eth_dev_adjust_nb_rx_tx_desc(id_, &nrx, &ntx);
    rc = rte_eth_rx_queue_setup(id_, 0, nrx, SOCKET_ID_ANY, nullptr, pool);
    if (rc != 0) fail("port {}: rx queue: {}", id_, rte_strerror(-rc));
    rc = rte_eth_tx_queue_setup(id_, 0, ntx, SOCKET_ID_ANY, nullptr);
    if (rc != 0) fail("port {}: tx queue: {}", id_, rte_strerror(-rc));
    rc = rte_eth_dev_start(id_);
    if (rc != 0) fail("port {}: start: {}", id_, rte_strerror(-rc));
    started_ = true;
    // Frames carry the MACs of the namespaces' interfaces, not the port's own.
    rc = rte_eth_promiscuous_enable(id_);
    if (rc != 0) fail("port {}: promiscuous mode: {}", id_, rte_strerror(-rc));
  }
  ~TapDev() {
    if (started_) rte_eth_dev_stop(id_);
    rte_eth_dev_close(id_);
  }
  TapDev(const TapDev&) = delete;
  TapDev& operator=(const TapDev&) = delete;
  uint16_t id() const { return id_; }

 private:
  uint16_t id_;
  bool started_ = false;
};

struct Totals {
  uint64_t fwd[2] = {0, 0};      // frames taken from port i and sent out of the other
  uint64_t dropped[2] = {0, 0};  // frames from port i the other's tx queue refused
};

void forward(const TapDev& in, const TapDev& out, Totals& t, unsigned dir) {
  rte_mbuf* pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(in.id(), 0, pkts, kBurst);
  if (n == 0) return;
  const uint16_t sent = rte_eth_tx_burst(out.id(), 0, pkts, n);
  t.fwd[dir] += sent;
  if (sent < n) {
    t.dropped[dir] += n - sent;
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
  }
}

int run(const Options& o) {
  const std::string prefix = "ntfwd-" + std::to_string(::getpid());
  tapswitch::Eal eal({"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m",
                      std::to_string(o.memory_mb), "--lcores=0@(" + std::to_string(o.cpu) + ")",
                      "--file-prefix=" + prefix, "--log-level=lib.eal:notice",
                      "--vdev=net_tap0,iface=" + o.iface[0], "--vdev=net_tap1,iface=" + o.iface[1]});
  if (rte_eth_dev_count_avail() != 2) fail("expected 2 net_tap ports, DPDK has {}", rte_eth_dev_count_avail());
  Totals t;
  {
    tapswitch::PktPool pool("ntfwd", 2 * (kDesc + kDesc) + 4096, RTE_MBUF_DEFAULT_BUF_SIZE);
    TapDev a(0, pool.get()), b(1, pool.get());
    spdlog::info("forwarding {} <-> {} on CPU {}", o.iface[0], o.iface[1], o.cpu);
    while (!g_stop) {
      forward(a, b, t, 0);
      forward(b, a, t, 1);
    }
    spdlog::info("stopping");
  }
  std::printf("{\"fwd_a_to_b\":%lu,\"fwd_b_to_a\":%lu,\"dropped_a_to_b\":%lu,\"dropped_b_to_a\":%lu}\n",
              static_cast<unsigned long>(t.fwd[0]), static_cast<unsigned long>(t.fwd[1]),
              static_cast<unsigned long>(t.dropped[0]), static_cast<unsigned long>(t.dropped[1]));
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("ntfwd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    spdlog::default_logger()->flush();
    std::fprintf(stderr, "ntfwd: error: %s\n", e.what());
    return 2;
  }
}
