// WakeAffinity: where a pinned adaptive worker may be woken (--wake-cpu others|any).
//
// Waking the worker's own halted vCPU costs 30-100+ us in a VM; the CPU that sent the frame is
// awake and holds the frame in its cache. So before it sleeps the worker changes its affinity
// to its wake set, and the kernel wakes it there, where the sender runs if it can. Away from
// home it gives that CPU back quickly (a short idle before sleeping), and once traffic has kept
// it awake for a while it pins itself home again: a short exchange (a ping) is served on the
// sender's CPU, sustained traffic on the worker's own.
//
// A worker woken away after a short sleep is in traffic that comes in bursts; on the sender's
// CPU it would take turns with the sender and never be awake long enough to go home (the
// sender cannot send while the worker runs there). So it goes home at once, and stays there
// (sleeps included) until a sleep lasts kShortSleepNs after all: the burst is over. Longer would keep it
// home after one stray frame for as long as a steady cadence lasts: with 10 ms, pings every 2 ms
// plus a second flow every 100 ms took 44.8 us (5 runs' median) instead of 18.8, each wake-up
// the halted home vCPU's (bench/README.md); sustained floods do not sleep at home at all, so
// the shorter rule keeps the 256-port rate (444-474 kpps against 441-470).
//
// The kernel prefers an idle CPU to the waker's: with its home in the wake set (any), a worker
// that slept briefly is mostly woken at home, halted vCPU and all. Leaving the workers' own
// CPUs out (others, the default) sends it where the senders run, if they run elsewhere
// (bench/README.md has the measurements).
//
// Concurrency contract: one object per worker, used only by that worker's thread, between
// start() at the top of its loop and stop() at the end.
#pragma once

#include <sched.h>

#include <cstdint>
#include <vector>

namespace tapswitch {

class WakeAffinity {
 public:
  // `wake_cpus`: where the worker may be woken (empty: only at home). See wake_set().
  explicit WakeAffinity(std::vector<unsigned> wake_cpus) : wake_cpus_(std::move(wake_cpus)) {}

  // Home is the calling thread's affinity now (where the EAL pinned its lcore). Wandering is
  // on only if the wake set reaches beyond it; the wake set need not include home.
  void start() noexcept;
  // Before a sleep: take the wake set as affinity (once per stay away).
  void before_sleep() noexcept;
  // After a sleep of `slept_ns` (0: no sleep after all): true if the thread woke outside home.
  bool after_wake(uint64_t slept_ns) noexcept;

  // Shorter sleeps mean bursty traffic: woken away after one, go home and stay there until a
  // sleep lasts this long.
  static constexpr uint64_t kShortSleepNs = 1'000'000;
  // Whether the last wake-up was outside home (and the worker has not gone back since).
  bool foreign() const noexcept { return foreign_; }
  // Awake and busy since `woke_tsc` for longer than the home-coming delay: pin home again.
  void settle(uint64_t now_tsc, uint64_t after_tsc) noexcept {
    if (away_ && now_tsc - woke_tsc_ > after_tsc) go_home();
  }
  // At the end of the loop: the lcore is pinned again for whatever the EAL runs on it next.
  void stop() noexcept { go_home(); }

 private:
  void go_home() noexcept;

  std::vector<unsigned> wake_cpus_;
  cpu_set_t home_{}, wide_{};  // (wide_: the wake set)
  bool wander_ = false;   // the wide set reaches beyond home
  bool away_ = false;     // the affinity is the wide set now
  bool foreign_ = false;  // the last wake-up was outside home
  bool stay_home_ = false;  // traffic comes in bursts: sleep at home until a quiet sleep
  uint64_t woke_tsc_ = 0;
};

// A worker's wake set: the CPUs the process may use, less every worker's home CPUs if
// `leave_homes` (--wake-cpu others) and any CPU is left, else all of them (--wake-cpu any).
std::vector<unsigned> wake_set(const std::vector<unsigned>& process_cpus, const std::vector<unsigned>& worker_cpus,
                               bool leave_homes);

}  // namespace tapswitch
