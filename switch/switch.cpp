#include "switch/switch.h"

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <net/if.h>

#include <spdlog/spdlog.h>

#include "base/cpus.h"
#include "base/error.h"
#include "base/inherited_fds.h"
#include "fdb/fdb_static.h"
#include "ports/absent_port.h"
#include "ports/port_factory.h"
#include "base/netns.h"

namespace tapswitch {

namespace {
constexpr unsigned kTxRingSize = 1024;
constexpr unsigned kRuntimeReserve = 4096;  // mbufs for ports added while running

// Frees what is left in a tx ring; returns how many frames that was.
uint64_t free_ring_contents(rte_ring* r) {
  void* objs[kBurst];
  unsigned n;
  uint64_t freed = 0;
  while ((n = rte_ring_dequeue_burst(r, objs, kBurst, nullptr)) != 0) {
    rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
    freed += n;
  }
  return freed;
}
}  // namespace

void Switch::discard_ring(uint16_t port, Ring& ring) {
  // Frames on their way to the port when its ring went: dropped, counted as the port not
  // taking them (tx_full).
  discarded_[port] += free_ring_contents(ring.get());
}

unsigned Switch::pool_size(const SwitchConfig& config) {
  if (config.mbufs) return config.mbufs;
  // In flight on the data path and in tx rings, plus what each port keeps for itself: a DPDK
  // port fills its rx rings and may hold its tx rings; a raw-fd tap keeps a small stash.
  unsigned n = 8192 + kRuntimeReserve + config.dp.workers * kTxRingSize;
  for (const auto& ps : config.ports) n += ps.kind == PortKind::dpdk ? ps.queues * (1024 + 64) : 96u * ps.queues;
  return n;
}

unsigned Switch::memory_mb(const SwitchConfig& config) {
  if (config.memory_mb) return config.memory_mb;
  // Measured here: a raw-fd tap queue's 64 KB buffers take about 3.3 MB with read/write (1 read
  // in flight + 48), and 1 MB more per 16 reads in flight with io_uring (32 + 48: about 5.3 MB);
  // an mbuf about 2.5 KB.
  double mb = 96 + pool_size(config) * 2.5 / 1024;
  for (const auto& ps : config.ports)
    if (ps.kind != PortKind::dpdk) mb += (ps.io != TapIo::syscall ? 5.5 : 3.5) * ps.queues;  // (auto may choose uring)
  return std::max(512u, static_cast<unsigned>(mb * 1.25));
}

unsigned Switch::fdb_memory_mb(const SwitchConfig& config) {
  return static_cast<unsigned>((MacTable::footprint(config.fdb_size) + (1 << 20) - 1) >> 20);
}

Switch::Switch(const SwitchConfig& config) : config_(config) {
  if (config.ports.size() > kMaxPorts) fail("too many ports: {} (at most {})", config.ports.size(), kMaxPorts);

  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  if (lcores.size() < config.dp.workers)
    fail("DPDK has {} worker lcore(s) but {} workers were asked for: give the EAL more lcores", lcores.size(),
         config.dp.workers);

  pool_ = std::make_unique<PktPool>("pkts", pool_size(config), RTE_MBUF_DEFAULT_BUF_SIZE);
  FdbConfig fc;
  fc.capacity = config.fdb_size;
  fc.workers = config.dp.workers;
  fc.aging = config.fdb_aging;
  fc.port_limit = config.fdb_port_limit;
  fc.max_ports = kMaxPorts;
  fdb_ = std::make_unique<Fdb>(fc);
  std::vector<unsigned> worker_cpus;  // every worker's home
  for (unsigned w = 0; w < config.dp.workers; ++w)
    for (unsigned c : cpus_of(rte_lcore_cpuset(lcores[w]))) worker_cpus.push_back(c);
  const std::vector<unsigned> wake_cpus =
      config.dp.wake == WakeCpu::home ? std::vector<unsigned>{}
                                      : wake_set(config.dp.process_cpus, worker_cpus, config.dp.wake == WakeCpu::others);
  for (unsigned w = 0; w < config.dp.workers; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, lcores[w], *fdb_, config.dp.poll, pool_->get(), wake_cpus));
    workers_.back()->set_capture(&captures_);
  }
  capman_ = std::make_unique<CaptureManager>(*this);

  slots_.resize(kMaxPorts);
  baseline_.resize(kMaxPorts);
  discarded_.resize(kMaxPorts);
  for (const PortSpec& spec : config.ports) {
    bool waiting = false;
    auto port = open_or_wait(spec, waiting);
    if (spec.kind == PortKind::tapfd) inherited_fds::adopted(spec.fd);
    const uint16_t id = static_cast<uint16_t>(&spec - config.ports.data());
    slots_[id] = std::make_unique<PortRecord>(PortRecord{id, spec, std::move(port)});
    slots_[id]->detached = waiting;
  }
  add_static_entries(*fdb_, config.fdb_static, [this](const std::string& name) -> int {
    const PortRecord* r = find_port(name);
    return r ? r->id : -1;
  });
  replan(true);  // checks --rxq-affinity against the ports
  // Only once every port opened: a switch that fails to start prints one line, its error.
  for (const auto& rec : slots_)
    if (rec) log_added(*rec);
}

std::unique_ptr<Port> Switch::open_or_wait(const PortSpec& spec, bool& waiting) {
  // The interface the spec names, in this namespace, before opening it (tap:NAME would attach
  // to a tapfd: port's tap as a second holder).
  if (!spec.ifname.empty()) check_interface_free(spec, {own_netns(), spec.ifname});
  waiting = spec.kind == PortKind::link && ::if_nametoindex(spec.ifname.c_str()) == 0;
  if (waiting) return std::make_unique<AbsentPort>(spec);
  auto port = open_port(spec, *pool_);
  check_clash(spec, *port);  // a tapfd: port's interface and name are known only now
  return port;
}

void Switch::check_interface_free(const PortSpec& spec, const KernelInterface& iface, int self) const {
  if (iface.name.empty()) return;
  for (const PortRecord* r : ports())
    if (r->id != self && !r->detached && r->port->kernel_interface() == iface)
      fail("port '{}': interface '{}' is switched by port '{}' already (a second port on one interface would "
           "loop or double every flood; for more queues, give that port queues=N)",
           spec.text, iface.name, r->spec.text);
}

void Switch::check_clash(const PortSpec& spec, const Port& port, int self) const {
  check_interface_free(spec, port.kernel_interface(), self);
  for (const PortRecord* r : ports())
    if (r->id != self && r->port->name() == port.name())
      fail("port '{}': its name '{}' is taken by port '{}' already{}", spec.text, port.name(), r->spec.text,
           spec.kind == PortKind::tapfd || r->spec.kind == PortKind::tapfd
               ? " (a tapfd: port is named after its tap unless given name=)"
               : "");
}

void Switch::log_added(const PortRecord& rec) {
  if (rec.detached)  // a warning: the name may be a typo
    spdlog::warn("port {} ({}) added as id {}; there is no interface named '{}' yet: it is attached when one appears",
                 rec.port->name(), rec.spec.text, rec.id, rec.spec.ifname);
  else
    spdlog::info("port {} ({}) added as id {}{}", rec.port->name(), rec.spec.text, rec.id,
                 rec.spec.kind == PortKind::tapfd && rec.spec.offload && !rec.port->tx_offloads().l4_csum
                     ? "; its tap was opened without IFF_VNET_HDR, so it has no offloads (its kernel side cuts "
                       "TCP to the MTU and completes checksums before the switch sees them)"
                     : "");
}

Switch::~Switch() {
  capman_.reset();
  stop();
  // Workers are stopped: empty the plans so no one names a port, then close the ports.
  for (auto& w : workers_) w->publish(std::make_unique<WorkerPlan>());
  for (auto& [key, ring] : rings_) discard_ring(key.second, *ring);
  rings_.clear();
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
    if (!*it) continue;
    spdlog::info("port {} removed", (*it)->port->name());
    it->reset();
  }
  workers_.clear();
  fdb_.reset();
  if (pool_ && pool_->in_use() != 0)
    spdlog::warn("{} mbufs were not returned to the pool at shutdown", pool_->in_use());
}

void Switch::start() {
  if (running_) return;
  for (auto& w : workers_) w->launch();
  running_ = true;
}

void Switch::stop() {
  if (!running_) return;
  for (auto& w : workers_) w->stop_and_wait();
  // What a worker handed to another after that one stopped is still in the rings.
  for (auto& [key, ring] : rings_) discard_ring(key.second, *ring);
  running_ = false;
}

uint16_t Switch::free_id() const {
  // Lowest free id: a removed port's id is reusable, its FDB entries are gone (Fdb::remove_port).
  for (uint16_t id = 0; id < kMaxPorts; ++id)
    if (!slots_[id]) return id;
  fail("no free port id: {} ports exist (at most {})", kMaxPorts, kMaxPorts);
}

const PortRecord& Switch::add_port(const PortSpec& given) {
  PortSpec spec = given;  // a raw-fd tap without io= takes --tap-io (as chosen at start)
  fill_tap_io(spec, config_.tap_io);
  std::vector<PortSpec> existing;
  for (const PortRecord* r : ports()) existing.push_back(r->spec);
  check_unique(existing, spec);  // the message quotes the spec being added
  const uint16_t id = free_id();
  bool waiting = false;
  auto port = open_or_wait(spec, waiting);
  baseline_[id] = {};
  baseline_[id] = totals(id);  // what a former holder of the id counted
  slots_[id] = std::make_unique<PortRecord>(PortRecord{id, spec, std::move(port)});
  slots_[id]->detached = waiting;
  try {
    replan();
  } catch (...) {
    slots_[id].reset();
    replan();
    throw;
  }
  if (spec.kind == PortKind::tapfd) inherited_fds::adopted(spec.fd);  // in place: the original goes
  log_added(*slots_[id]);
  return *slots_[id];
}

void Switch::remove_port(const std::string& name) {
  const PortRecord* rec = find_port(name);
  if (!rec) fail("there is no port named '{}'", name);
  const uint16_t id = rec->id;
  captures_.clear(id);
  std::unique_ptr<PortRecord> gone = std::move(slots_[id]);
  replan();  // no worker names the port once this returns
  const unsigned flushed = fdb_->remove_port(id);
  spdlog::info("port {} removed ({} FDB entries flushed)", gone->port->name(), flushed);
  gone.reset();
}

void Switch::detach_port(uint16_t id) {
  PortRecord* rec = slots_.at(id).get();
  if (!rec || rec->detached) return;
  captures_.clear(id);
  rec->detached = true;
  replan();
}

void Switch::reattach_port(uint16_t id) {
  PortRecord* rec = slots_.at(id).get();
  if (!rec || !rec->detached) return;
  auto port = open_port(rec->spec, *pool_);
  check_clash(rec->spec, *port, id);
  rec->earlier += rec->port->stats();
  rec->port = std::move(port);  // the old one closes here; no worker names it
  rec->detached = false;
  try {
    replan();
  } catch (...) {
    rec->detached = true;  // no plan names the new one either
    throw;
  }
}

void Switch::replan(bool strict_pins) {
  std::vector<PortQueues> pq;
  for (const PortRecord* r : ports())
    if (!r->detached) pq.push_back({r->id, r->port->name(), r->port->rx_queues(), r->port->tx_queues(), r->port->tx_mt_safe()});
  // At start every pin must name a configured port; later, a pin applies to a port of that
  // name when it is added.
  std::vector<RxPin> pins;
  for (const auto& a : config_.dp.rxq_affinity) {
    bool present = false;
    for (const auto& q : pq) present |= q.name == a.port;
    // (A port waiting for its interface is configured but has no queues yet.)
    if (present || (strict_pins && !find_port(a.port))) pins.push_back({a.port, a.queue, a.worker});
  }
  RxPlacement placement = place_rx_queues(pq, static_cast<unsigned>(workers_.size()), pins, placement_);

  const unsigned nw = static_cast<unsigned>(workers_.size());
  std::map<std::pair<unsigned, uint16_t>, std::unique_ptr<Ring>> rings;  // made here
  std::vector<std::pair<unsigned, uint16_t>> used;
  std::vector<std::unique_ptr<WorkerPlan>> plans;
  for (unsigned w = 0; w < nw; ++w) plans.push_back(std::make_unique<WorkerPlan>());
  for (const auto& [key, w] : placement) plans[w]->rx.push_back({key.first, slots_[key.first]->port.get(), key.second});
  for (const PortQueues& p : pq) {
    Port* port = slots_[p.id]->port.get();
    for (unsigned w = 0; w < nw; ++w) {
      TxRoute r = tx_route(p, w);
      if (r.sender == w) {
        plans[w]->tx.push_back({p.id, port, r.queue, nullptr, nullptr});
        continue;
      }
      // A ring the running plans use moves over only once every new one exists (below), so a
      // failed allocation leaves those plans' rings alone.
      auto key = std::make_pair(w, p.id);
      auto old = rings_.find(key);
      Ring* ring = old != rings_.end() ? old->second.get()
                                       : rings.emplace(key, std::make_unique<Ring>("tx", kTxRingSize,
                                                                                   RING_F_SP_ENQ | RING_F_SC_DEQ))
                                             .first->second.get();
      plans[w]->tx.push_back({p.id, port, r.queue, ring->get(), &workers_[r.sender]->wakeup()});
      plans[r.sender]->drains.push_back({p.id, port, r.queue, ring->get()});
      used.push_back(key);
    }
  }
  for (const auto& key : used)
    if (auto old = rings_.find(key); old != rings_.end()) {
      rings.emplace(key, std::move(old->second));
      rings_.erase(old);
    }
  placement_ = std::move(placement);
  for (unsigned w = 0; w < nw; ++w) workers_[w]->publish(std::move(plans[w]));
  // Every worker runs the new plan: rings only the old plans used can go.
  for (auto& [key, ring] : rings_) discard_ring(key.second, *ring);
  rings_ = std::move(rings);
}

void Switch::sync_workers() {
  for (auto& w : workers_) w->publish(std::make_unique<WorkerPlan>(w->plan()));
}

std::vector<const PortRecord*> Switch::ports() const {
  std::vector<const PortRecord*> out;
  for (const auto& s : slots_)
    if (s) out.push_back(s.get());
  return out;
}

const PortRecord* Switch::port(uint16_t id) const noexcept {
  return id < slots_.size() ? slots_[id].get() : nullptr;
}

const PortRecord* Switch::find_port(const std::string& name) const noexcept {
  for (const auto& s : slots_)
    if (s && s->port->name() == name) return s.get();
  return nullptr;
}

SwitchPortTotals Switch::totals(uint16_t id) const {
  SwitchPortTotals t;
  for (const auto& w : workers_) t.add(w->counters().ports[id]);
  t.drops[static_cast<unsigned>(DropReason::tx_full)] += discarded_[id];
  t.subtract(baseline_[id]);
  return t;
}

size_t Switch::forget_port(uint16_t id) { return fdb_->flush_port(id); }

}  // namespace tapswitch
