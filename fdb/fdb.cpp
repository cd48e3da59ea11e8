// Fdb: construction, the workers' side (lookups, learn requests, QSBR) and reporting. The
// writer's policies live in fdb_writer.cpp.
#include "fdb/fdb.h"

#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "base/error.h"

namespace tapswitch {

static_assert(std::is_standard_layout_v<FdbKey> && sizeof(FdbKey) == sizeof(uint64_t) &&
                  std::is_trivially_copyable_v<FdbEntry> && sizeof(FdbEntry) == sizeof(uint64_t),
              "lookup_bulk passes FdbKey and FdbEntry arrays to the table as 64-bit words");

Fdb::Fdb(const FdbConfig& config)
    : config_(config),
      table_(config.capacity),
      qsbr_(config.workers),
      workers_(config.workers),
      port_dynamic_(config.max_ports, 0) {
  if (config.capacity == 0) fail("the FDB capacity must be at least 1");
  if (config.max_ports == 0 || config.max_ports == kNoPort) fail("FDB: bad port id range {}", config.max_ports);
  for (auto& w : workers_)
    w.ring = std::make_unique<Ring>("learn", config.learn_ring, RING_F_SP_ENQ | RING_F_SC_DEQ,
                                    sizeof(LearnRequest));
  event_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event_fd_) fail("cannot create the FDB event fd: {}", std::strerror(errno));
  timer_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_fd_) fail("cannot create the FDB timer: {}", std::strerror(errno));
  itimerspec every_second{{1, 0}, {1, 0}};
  if (::timerfd_settime(timer_fd_.get(), 0, &every_second, nullptr) != 0)
    fail("cannot arm the FDB timer: {}", std::strerror(errno));
}

Fdb::~Fdb() = default;

uint32_t Fdb::now() noexcept {
  static const uint64_t hz = rte_get_tsc_hz();
  return static_cast<uint32_t>(rte_get_tsc_cycles() / hz);
}

unsigned Fdb::lookup_bulk(const FdbKey* keys, unsigned n, FdbEntry* out) const noexcept {
  const uint64_t hits = table_.lookup_bulk(reinterpret_cast<const uint64_t*>(keys), n,
                                           reinterpret_cast<uint64_t*>(out), FdbEntry{}.pack());
  return static_cast<unsigned>(std::popcount(hits));
}

bool Fdb::request_learn(unsigned worker, FdbKey key, uint16_t port) noexcept {
  LearnRequest req{key, port, {}};
  WorkerSide& w = workers_[worker];
  if (rte_ring_sp_enqueue_elem(w.ring->get(), &req, sizeof req) != 0) {
    w.learn_dropped.add();
    return false;
  }
  return true;
}

void Fdb::kick(unsigned) noexcept {
  // The exchange pairs with the writer's exchange(false) before it drains: a request queued
  // before a kick that saw `true` is still found by that drain.
  if (!pending_.exchange(true)) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(event_fd_.get(), &one, sizeof one);
  }
}

void Fdb::count_lookups(unsigned worker, uint64_t hits, uint64_t misses, uint64_t static_conflicts) noexcept {
  WorkerSide& w = workers_[worker];
  w.hits.add(hits);
  w.misses.add(misses);
  if (static_conflicts) w.static_conflicts.add(static_conflicts);
}

unsigned Fdb::process_learning_at(uint32_t t, unsigned budget) {
  uint64_t ignored;
  [[maybe_unused]] ssize_t r = ::read(event_fd_.get(), &ignored, sizeof ignored);
  pending_.exchange(false);
  unsigned done = 0;
  LearnRequest reqs[64];
  for (auto& w : workers_) {
    while (done < budget) {
      unsigned n = rte_ring_sc_dequeue_burst_elem(w.ring->get(), reqs, sizeof(LearnRequest), 64, nullptr);
      if (n == 0) break;
      for (unsigned i = 0; i < n; ++i) apply(reqs[i], t);
      done += n;
    }
  }
  if (done >= budget) kick(0);  // more may be left: come back after other work
  return done;
}

void Fdb::on_timer() {
  uint64_t expirations;
  [[maybe_unused]] ssize_t r = ::read(timer_fd_.get(), &expirations, sizeof expirations);
  age(writer_now());
}

uint32_t Fdb::port_entries(uint16_t port) const noexcept {
  return port < port_dynamic_.size() ? port_dynamic_[port] : 0;
}

void Fdb::for_each(const std::function<void(const FdbRecord&)>& fn) const {
  for (uint32_t s = 0, n = table_.slot_count(); s < n; ++s) {
    if (table_.empty_bucket_at(s)) {  // (its line is not read)
      s += MacTable::kWays - 1;
      continue;
    }
    const MacTable::Entry e = table_.at(s);
    if (e.used()) fn(FdbRecord{FdbKey{e.key}, FdbEntry::unpack(e.value)});
  }
}

FdbStats Fdb::stats() const {
  FdbStats s;
  s.entries = entries_.get();
  s.static_entries = statics_.get();
  s.learned = learned_.get();
  s.moved = moved_.get();
  s.aged = aged_.get();
  s.evicted = evicted_.get();
  s.refused = refused_.get();
  s.refused_port_limit = refused_limit_.get();
  s.moved_over_limit = moved_over_limit_.get();
  s.flushed = flushed_.get();
  s.static_conflicts = static_conflicts_.get();
  s.relocations = table_.relocations();
  for (const auto& w : workers_) {
    s.learn_dropped += w.learn_dropped.get();
    s.hits += w.hits.get();
    s.misses += w.misses.get();
    s.static_conflicts += w.static_conflicts.get();
  }
  return s;
}

}  // namespace tapswitch
