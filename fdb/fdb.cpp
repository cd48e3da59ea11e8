#include "fdb/fdb.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstring>

#include "base/error.h"

namespace tapswitch {

namespace {

uint32_t crc_hash(const void* key, uint32_t, uint32_t init) {
  uint64_t k;
  std::memcpy(&k, key, sizeof k);
  return rte_hash_crc_8byte(k, init);
}

void* to_data(FdbEntry e) { return reinterpret_cast<void*>(static_cast<uintptr_t>(e.pack())); }
FdbEntry from_data(void* d) { return FdbEntry::unpack(reinterpret_cast<uintptr_t>(d)); }

}  // namespace

Fdb::Fdb(const FdbConfig& config) : config_(config), workers_(config.workers) {
  static std::atomic<unsigned> serial{0};
  std::string name = "fdb" + std::to_string(serial.fetch_add(1));
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = config.capacity;
  p.key_len = sizeof(FdbKey);
  p.hash_func = crc_hash;
  p.hash_func_init_val = 0;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&p);
  if (!hash_) fail("cannot create the FDB of {} entries: {}", config.capacity, rte_strerror(rte_errno));
  for (auto& w : workers_)
    w.ring = std::make_unique<Ring>("learn", config.learn_ring, RING_F_SP_ENQ | RING_F_SC_DEQ,
                                    sizeof(LearnRequest));
  event_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event_fd_) fail("cannot create the FDB event fd: {}", std::strerror(errno));
}

Fdb::~Fdb() { rte_hash_free(hash_); }

uint32_t Fdb::now() noexcept {
  static const uint64_t hz = rte_get_tsc_hz();
  return static_cast<uint32_t>(rte_get_tsc_cycles() / hz);
}

unsigned Fdb::lookup_bulk(const FdbKey* keys, unsigned n, FdbEntry* out) const noexcept {
  const void* kp[kMaxBulk];
  void* data[kMaxBulk];
  uint64_t hit_mask = 0;
  for (unsigned i = 0; i < n; ++i) kp[i] = &keys[i];
  int hits = rte_hash_lookup_bulk_data(hash_, kp, n, &hit_mask, data);
  for (unsigned i = 0; i < n; ++i)
    out[i] = (hit_mask >> i) & 1 ? from_data(data[i]) : FdbEntry{};
  return hits > 0 ? static_cast<unsigned>(hits) : 0;
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

void Fdb::count_lookups(unsigned worker, uint64_t hits, uint64_t misses) noexcept {
  workers_[worker].hits.add(hits);
  workers_[worker].misses.add(misses);
}

unsigned Fdb::process_learning(unsigned budget) {
  uint64_t ignored;
  [[maybe_unused]] ssize_t r = ::read(event_fd_.get(), &ignored, sizeof ignored);
  pending_.exchange(false);
  const uint32_t t = now();
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

void Fdb::apply(const LearnRequest& req, uint32_t t) {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &req.key, &data) >= 0) {
    FdbEntry e = from_data(data);
    if (e.flags & kFdbStatic) return;
    if (e.port != req.port) {
      moved_.add();
      e.port = req.port;
    } else if (e.last_seen == t) {
      return;
    }
    e.last_seen = t;
    rte_hash_add_key_data(hash_, &req.key, to_data(e));
    return;
  }
  FdbEntry e{req.port, kFdbDynamic, 0, t};
  int rc = rte_hash_add_key_data(hash_, &req.key, to_data(e));
  if (rc != 0) {
    refused_.add();
    return;
  }
  learned_.add();
  entries_.add();
}

void Fdb::for_each(const std::function<void(const FdbRecord&)>& fn) const {
  const void* key;
  void* data;
  uint32_t it = 0;
  while (rte_hash_iterate(hash_, &key, &data, &it) >= 0) {
    FdbRecord rec;
    std::memcpy(&rec.key, key, sizeof rec.key);
    rec.entry = from_data(data);
    fn(rec);
  }
}

FdbStats Fdb::stats() const {
  FdbStats s;
  s.entries = entries_.get();
  s.learned = learned_.get();
  s.moved = moved_.get();
  s.refused = refused_.get();
  for (const auto& w : workers_) {
    s.learn_dropped += w.learn_dropped.get();
    s.hits += w.hits.get();
    s.misses += w.misses.get();
  }
  return s;
}

}  // namespace tapswitch
