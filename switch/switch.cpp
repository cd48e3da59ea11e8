#include "switch/switch.h"

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "fdb/fdb_static.h"
#include "ports/port_factory.h"

namespace tapswitch {

unsigned Switch::pool_size(const SwitchConfig& config) {
  if (config.mbufs) return config.mbufs;
  // In flight on the data path, plus what each port keeps for itself: a DPDK port fills its rx
  // ring and may hold its tx ring; a raw-fd tap keeps a small stash.
  unsigned n = 8192;
  for (const auto& ps : config.ports) n += ps.kind == PortKind::dpdk ? 1024 + 64 : 96;
  return n;
}

Switch::Switch(const SwitchConfig& config) : config_(config) {
  if (config.ports.size() > kMaxPorts) fail("too many ports: {} (at most {})", config.ports.size(), kMaxPorts);

  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  if (lcores.empty()) fail("DPDK has no worker lcore: give the EAL at least two lcores (-l 0-1)");

  pool_ = std::make_unique<PktPool>("pkts", pool_size(config), RTE_MBUF_DEFAULT_BUF_SIZE);
  FdbConfig fc;
  fc.capacity = config.fdb_size;
  fc.workers = 1;
  fc.aging = config.fdb_aging;
  fc.port_limit = config.fdb_port_limit;
  fc.max_ports = kMaxPorts;
  fdb_ = std::make_unique<Fdb>(fc);

  for (const PortSpec& spec : config.ports) {
    auto port = open_port(spec, *pool_);
    const uint16_t id = static_cast<uint16_t>(ports_.size());
    spdlog::info("port {} ({}) added as id {}", port->name(), spec.text, id);
    ports_.push_back(PortRecord{id, spec, std::move(port)});
  }

  add_static_entries(*fdb_, config.fdb_static, [this](const std::string& name) -> int {
    for (const auto& rec : ports_)
      if (rec.port->name() == name) return rec.id;
    return -1;
  });

  workers_.push_back(std::make_unique<Worker>(0, lcores[0], *fdb_, stop_));
}

Switch::~Switch() {
  stop();
  workers_.clear();
  for (auto it = ports_.rbegin(); it != ports_.rend(); ++it) {
    spdlog::info("port {} removed", it->port->name());
    it->port.reset();
  }
  ports_.clear();
  fdb_.reset();
  if (pool_ && pool_->in_use() != 0)
    spdlog::warn("{} mbufs were not returned to the pool at shutdown", pool_->in_use());
}

void Switch::start() {
  if (running_) return;
  std::vector<TxTarget> tx;
  for (const auto& rec : ports_) {
    for (uint16_t q = 0; q < rec.port->rx_queues(); ++q) workers_[0]->assign_rx({rec.id, rec.port.get(), q});
    tx.push_back({rec.id, rec.port.get(), 0});
  }
  workers_[0]->set_tx(tx);
  stop_.store(false, std::memory_order_release);
  for (auto& w : workers_) w->launch();
  running_ = true;
}

void Switch::stop() {
  if (!running_) return;
  stop_.store(true, std::memory_order_release);
  for (auto& w : workers_) w->wait();
  running_ = false;
}

const PortRecord* Switch::port(uint16_t id) const noexcept {
  return id < ports_.size() ? &ports_[id] : nullptr;
}

SwitchPortTotals Switch::totals(uint16_t id) const {
  SwitchPortTotals t;
  for (const auto& w : workers_) t.add(w->counters().ports[id]);
  return t;
}

}  // namespace tapswitch
