// Fdb: the forwarding database, (VLAN, MAC) -> port.
//
// Design
//  - Storage is a MacTable (fdb/mac_table.h): a two-choice cuckoo hash of 16-byte {key, entry}
//    pairs, one cache line per bucket, at most half full, with a summary of 4 bytes per bucket
//    (7-bit fingerprints and an overflow flag) that lookups read first, so that a miss rarely
//    touches the table itself. It beat DPDK's rte_hash in the same benchmark
//    (bench/FDB-RESULTS.md), so it replaced it.
//  - Workers look up keys in bulk and never take a lock or write shared memory on a hit.
//  - Workers never insert. When a source MAC is new, has moved, or its last_seen is over a
//    second old, the worker queues a learn request on its own single-producer ring and, once
//    per burst, kicks the writer. Frames to a MAC not yet learned are flooded meanwhile. A
//    static entry never generates a request; a frame from its MAC on another port is counted
//    (static_conflicts) and otherwise ignored by learning.
//  - One writer applies the requests and does everything else: aging, statics, flushes,
//    eviction. In tapswitch that is the control thread (switch/control_loop.cpp).
//
// Policies
//  - Aging: a dynamic entry not seen for more than `aging` seconds is removed (0: never). The
//    writer's timer (timer_fd, every second) ages a slice of the table so that a full pass
//    takes at most max(1, aging/10) and 30 seconds; an idle entry goes between aging and
//    aging + pass + 1 seconds after its last frame (the clock counts whole seconds). Frames to it then flood again.
//  - Capacity: at most `capacity` entries, static ones included. When the table is full, a new
//    MAC evicts a dynamic entry from the port that has the most of them (fair eviction, as in
//    Open vSwitch): a MAC flood from one port churns that port's own entries and leaves other
//    ports' hosts in place. Among that port's entries, the oldest of a small sample goes. Only
//    when no dynamic entry is left to evict is a new MAC refused.
//  - Port limit: a port holding `port_limit` dynamic entries learns no new MAC (refused); a MAC
//    that moves onto such a port loses its old entry, so frames to it flood instead of going
//    to the port it left.
//  - Flush (all, by port, by VLAN): the writer walks the table and erases what matches while
//    readers carry on lock-free. Nothing stops or waits for a worker, and a reader sees each
//    entry either present or gone. A full 1M-entry table takes the writer about 20 ms of CPU,
//    a 64K one about 1 ms (bench/FDB-RESULTS.md). VPP bumps sequence numbers instead because
//    its workers would otherwise have to be stopped; ours need not be, the walk keeps the
//    per-port counts (limits, fair eviction) exact, and the lookup stays free of a sequence
//    check. Flushes remove dynamic entries unless asked for all; requests queued before a
//    flush are applied first.
//  - Capacity default (--fdb-size 65536): ample for the VMs and containers of one host, and
//    the half-loaded table (2 MB, and 128 KB of summary) stays in the last-level cache.
//
// Reclamation
//  An erased slot may be reused at once: a reader reads a whole {key, entry} pair in one
//  16-byte atomic load and keeps no reference into the table, so it can never combine a key
//  with another key's entry. What readers can still hold after a removal is a lookup *result*
//  naming a port. Before a removed port's id may be reused, every worker must have finished the
//  bursts it looked up before the removal: remove_port() flushes the port and then waits for
//  a QSBR grace period (rte_rcu_qsbr). Workers are QSBR readers: they go online when their loop
//  starts, report quiescence every housekeeping period (between bursts), and go offline
//  before they sleep or stop (an offline reader never delays a grace period).
//
// Concurrency contract
//  - lookup_bulk(): any thread that is an online reader (or any thread when no writer runs).
//  - request_learn(), kick(), count_lookups(), reader_online/offline(), quiescent(): worker w
//    only, with its own index w < workers. Wait-free; never block.
//  - now(): any thread.
//  - Everything else is the writer's: one call at a time, from any one thread at a time
//    (tapswitch: the control thread's handlers and the telemetry thread, serialised by the
//    control lock; tests serialise several threads with a mutex).
//  - stats() may be called by the writer at any time; counters are never torn.
//  - A reader may see an entry one writer step late; it never sees a torn entry, and any hit
//    names a port the MAC was learned on. It misses an entry that stayed in the table only if
//    cuckoo moves raced each of its 9 attempts (the frame then floods). The table's summary
//    is written by the writer alone and never hides an entry that stays put: a stale
//    fingerprint costs a reader one cache line for nothing, a missing one only concerns an
//    entry being added, moved (covered by the retries) or removed (see fdb/mac_table.h).
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
#include "fdb/mac_table.h"
#include "fdb/qsbr.h"

namespace tapswitch {

struct FdbConfig {
  uint32_t capacity = 65536;   // entries, static ones included
  unsigned workers = 1;        // one learn ring and one QSBR reader per worker
  unsigned learn_ring = 4096;  // requests queued per worker before new ones are dropped
  uint32_t aging = 300;        // seconds; 0 = never
  uint32_t port_limit = 0;     // dynamic entries per port; 0 = no limit
  uint16_t max_ports = 1024;   // port ids are below this
  // The writer's clock in seconds, for process_learning(), flushes, the timer and statics;
  // empty: Fdb::now(). Tests substitute a simulated one.
  std::function<uint32_t()> clock;
};

struct FdbStats {
  uint64_t entries = 0;
  uint64_t static_entries = 0;
  uint64_t learned = 0;     // new dynamic entries
  uint64_t moved = 0;       // dynamic entries that followed their MAC to another port
  uint64_t aged = 0;
  uint64_t evicted = 0;     // dynamic entries removed to make room for a new MAC
  // Learn requests refused (all causes). A MAC that keeps sending asks again, about once per
  // burst of its frames, and each refusal counts: a rate, not a number of MACs.
  uint64_t refused = 0;
  uint64_t refused_port_limit = 0;  // of which: the port was at its limit
  uint64_t moved_over_limit = 0;    // entries forgotten: their MAC moved to a port at its limit
  // Entries removed by a command (flush, del, a static entry replacing a learned one) or a
  // port's removal, static or learned. Dynamic entries = learned - aged - evicted -
  // moved_over_limit - the dynamic part of flushed.
  uint64_t flushed = 0;
  uint64_t static_conflicts = 0;    // frames from a static MAC on another port
  uint64_t learn_dropped = 0;       // requests dropped because a learn ring was full
  uint64_t hits = 0, misses = 0;    // destination lookups by workers
  uint64_t relocations = 0;         // cuckoo moves inside the table
};

struct FdbRecord {
  FdbKey key;
  FdbEntry entry;
};

enum class FdbScope : uint8_t { dynamic, all };  // what a flush removes
// add_static(): a new entry, a static one moved or kept, a learned one made static, or no room.
enum class FdbAdd : uint8_t { added, replaced, made_static, full };

class Fdb {
 public:
  static constexpr unsigned kMaxBulk = MacTable::kMaxBulk;

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
  void count_lookups(unsigned worker, uint64_t hits, uint64_t misses, uint64_t static_conflicts = 0) noexcept;
  // QSBR: online before the first lookup, quiescent between bursts, offline before sleeping
  // or stopping.
  void reader_online(unsigned worker) noexcept { qsbr_.online(worker); }
  void reader_offline(unsigned worker) noexcept { qsbr_.offline(worker); }
  void quiescent(unsigned worker) noexcept { qsbr_.quiescent(worker); }

  // The FDB clock in seconds (monotonic, from the TSC). Cheap; any thread.
  static uint32_t now() noexcept;

  // ---- the writer ----
  // Readable when learn requests are pending; the writer then calls process_learning().
  int event_fd() const noexcept { return event_fd_.get(); }
  // Readable every second; the writer then calls on_timer(), which ages a slice of the table.
  int timer_fd() const noexcept { return timer_fd_.get(); }
  // Applies queued learn requests, at most `budget`. Returns how many were applied.
  unsigned process_learning(unsigned budget = 65536) { return process_learning_at(writer_now(), budget); }
  unsigned process_learning_at(uint32_t now, unsigned budget = 65536);
  void on_timer();
  // Removes dynamic entries idle for more than the aging time: the next slice of the table,
  // or all of it. Returns how many went.
  unsigned age(uint32_t now, bool whole_table = false);

  // A static entry: replaces a dynamic one for the key, or moves a static one; may evict.
  // Throws Error for a port id >= max_ports.
  FdbAdd add_static(FdbKey key, uint16_t port);
  bool remove(FdbKey key);  // either kind; false if absent
  unsigned flush_all(FdbScope scope = FdbScope::dynamic);
  unsigned flush_port(uint16_t port, FdbScope scope = FdbScope::dynamic);
  unsigned flush_vlan(uint16_t vlan, FdbScope scope = FdbScope::dynamic);
  // For port removal, after no worker receives from the port any more: removes every entry
  // of the port, then waits for a grace period, so that no worker still holds a lookup
  // result naming it and its id may be reused. Returns the entries removed.
  unsigned remove_port(uint16_t port);
  void synchronize() noexcept { qsbr_.synchronize(); }

  void set_aging(uint32_t seconds) noexcept { config_.aging = seconds; }
  void set_port_limit(uint32_t limit) noexcept { config_.port_limit = limit; }
  const FdbConfig& config() const noexcept { return config_; }
  uint32_t capacity() const noexcept { return config_.capacity; }
  uint32_t port_entries(uint16_t port) const noexcept;  // dynamic entries on a port
  void for_each(const std::function<void(const FdbRecord&)>& fn) const;
  const MacTable& table() const noexcept { return table_; }  // the writer's, for tests
  FdbStats stats() const;

 private:
  struct LearnRequest {
    FdbKey key;
    uint16_t port;
    uint16_t pad[3];
  };
  static_assert(sizeof(LearnRequest) == 16);

  struct alignas(64) WorkerSide {
    std::unique_ptr<Ring> ring;
    Counter learn_dropped, hits, misses, static_conflicts;
  };

  uint32_t writer_now() const { return config_.clock ? config_.clock() : now(); }
  // fdb_writer.cpp
  void apply(const LearnRequest& req, uint32_t now);
  void learn_new(FdbKey key, uint16_t port, uint32_t now);
  bool insert(FdbKey key, FdbEntry e);
  void erase(uint32_t slot, FdbEntry e);
  bool evict_one();
  unsigned flush_if(const std::function<bool(FdbKey, FdbEntry)>& match);

  FdbConfig config_;
  MacTable table_;
  Qsbr qsbr_;
  std::vector<WorkerSide> workers_;
  UniqueFd event_fd_, timer_fd_;
  alignas(64) std::atomic<bool> pending_{false};
  // The writer's own state.
  alignas(64) std::vector<uint32_t> port_dynamic_;  // dynamic entries per port
  uint16_t ports_seen_ = 0;                         // port ids below this have had entries
  uint32_t age_cursor_ = 0, evict_cursor_ = 0;
  Counter entries_, statics_, learned_, moved_, aged_, evicted_, refused_, refused_limit_, moved_over_limit_,
      flushed_, static_conflicts_;
};

}  // namespace tapswitch
