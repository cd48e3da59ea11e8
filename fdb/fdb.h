// Fdb: the forwarding database, (VLAN, MAC) -> port.
//
// Design: a DPDK rte_hash in lock-free reader/writer mode with exactly one writer.
//  - Workers look up keys in bulk and never take a lock or write shared memory on a hit.
//  - Workers never insert. When a source MAC is new, has moved, or its last_seen is over a
//    second old, the worker queues a learn request on its own single-producer ring and, once
//    per burst, kicks the writer. Frames to a MAC not yet learned are flooded meanwhile.
//  - The writer (the control thread) drains the rings and applies the requests.
//
// Concurrency contract:
//  - lookup_bulk(), request_learn(), kick(): worker w only, with its own worker index; any
//    number of workers concurrently. Wait-free; never block.
//  - everything else: the writer thread only (the control thread), one call at a time.
//  - Readers may see an entry up to one writer pass late; they never see a torn entry, because
//    key and entry are each one 64-bit word written atomically by rte_hash.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/counter.h"
#include "base/unique_fd.h"
#include "dpdk/ring.h"
#include "fdb/fdb_key.h"

struct rte_hash;

namespace tapswitch {

struct FdbConfig {
  uint32_t capacity = 65536;  // entries
  unsigned workers = 1;       // one learn ring per worker
  unsigned learn_ring = 4096; // requests queued per worker before new ones are dropped
};

struct FdbStats {
  uint64_t entries = 0;
  uint64_t learned = 0;     // new entries
  uint64_t moved = 0;       // dynamic entries that followed their MAC to another port
  uint64_t refused = 0;     // new MACs not learned because the table was full
  uint64_t learn_dropped = 0;  // requests dropped because a learn ring was full
  uint64_t hits = 0, misses = 0;  // destination lookups by workers
};

struct FdbRecord {
  FdbKey key;
  FdbEntry entry;
};

class Fdb {
 public:
  static constexpr unsigned kMaxBulk = 64;

  explicit Fdb(const FdbConfig& config);
  ~Fdb();
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // ---- workers ----
  // Looks up n <= kMaxBulk keys. out[i] is the entry (port kNoPort on a miss). Returns hits.
  unsigned lookup_bulk(const FdbKey* keys, unsigned n, FdbEntry* out) const noexcept;
  // Queues "key was seen on port". Returns false if the ring was full (counted).
  bool request_learn(unsigned worker, FdbKey key, uint16_t port) noexcept;
  // Wakes the writer if it is not already awake; call once after a burst's requests.
  void kick(unsigned worker) noexcept;
  // Destination lookup statistics, added by worker w once per burst.
  void count_lookups(unsigned worker, uint64_t hits, uint64_t misses) noexcept;

  // The FDB clock in seconds (monotonic, from the TSC). Cheap; any thread.
  static uint32_t now() noexcept;

  // ---- writer (control thread) ----
  // Readable when learn requests are pending; the writer then calls process_learning().
  int event_fd() const noexcept { return event_fd_.get(); }
  // Applies queued learn requests, at most `budget`. Returns how many were applied.
  unsigned process_learning(unsigned budget = 65536);
  void for_each(const std::function<void(const FdbRecord&)>& fn) const;
  FdbStats stats() const;
  uint32_t capacity() const noexcept { return config_.capacity; }

 private:
  struct LearnRequest {
    FdbKey key;
    uint16_t port;
    uint16_t pad[3];
  };
  static_assert(sizeof(LearnRequest) == 16);

  struct alignas(64) WorkerSide {
    std::unique_ptr<Ring> ring;
    Counter learn_dropped, hits, misses;
  };

  void apply(const LearnRequest& req, uint32_t now);

  FdbConfig config_;
  rte_hash* hash_ = nullptr;
  std::vector<WorkerSide> workers_;
  UniqueFd event_fd_;
  alignas(64) std::atomic<bool> pending_{false};
  // writer-only counters
  alignas(64) Counter entries_, learned_, moved_, refused_;
};

}  // namespace tapswitch
