// Worker: one forwarding thread on its own EAL lcore.
//
// The loop: poll each assigned rx queue for a burst and switch it; send every batch; empty the
// tx rings other workers fill for queues this worker owns. Every kHousekeepEvery iterations:
// publish loop counters, pick up a new plan, check the stop flag.
//
// Adaptive polling: after kIdleBeforeSleepUs without a frame the worker sleeps in epoll over
// its rx queues' notification fds (tap fds, DPDK rx interrupts) and its WakeUp eventfd; ports
// that cannot notify make it back off instead, with sleeps of 50 us doubling up to 1 ms.
//
// Waking where the frame is (WakeCpu::others/any, switch/wake_affinity.h): a pinned adaptive worker
// may be woken on the sender's CPU; there it sleeps after kIdleBeforeSleepAwayUs, and after
// kHomeAfterUs awake it pins itself home again.
//
// The worker is an FDB reader (QSBR): online while its loop runs, quiescent at every
// housekeeping point, offline while it sleeps, so an idle worker never holds up the FDB writer.
//
// Concurrency contract:
//  - The constructor, publish(), launch(), stop_and_wait() and the accessors run on the control
//    thread.
//  - While running, the worker is the only thread that touches its Forwarder, the rx queues and
//    tx queues its plan gives it, and its WorkerCounters (which any thread may read).
//  - publish() hands over a plan; the worker switches at its next housekeeping point (waking up
//    if asleep) and publish() returns once it has, so the caller may then free what only the
//    old plan used.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/unique_fd.h"
#include "fdb/fdb.h"
#include "ports/port.h"
#include "switch/capture_table.h"
#include "switch/config_dataplane.h"
#include "switch/counters.h"
#include "switch/forwarder.h"
#include "switch/wake_affinity.h"
#include "switch/wakeup.h"
#include "switch/worker_plan.h"

namespace tapswitch {

class Worker {
 public:
  // `frames`: the switch's pool (see Forwarder). `wake_cpus`: where an adaptive worker may be
  // woken (empty: only on the CPUs its lcore is pinned to).
  Worker(unsigned index, unsigned lcore, Fdb& fdb, PollMode poll, rte_mempool* frames,
         std::vector<unsigned> wake_cpus = {});
  ~Worker();

  // Starts the loop on the worker's lcore; throws Error if the lcore is busy.
  void launch();
  // Stops the loop (it sends what it had batched) and waits for it.
  void stop_and_wait();
  // Makes `plan` the worker's plan and returns once the worker uses it (at once if the worker
  // is not running). Returns the previous plan.
  std::unique_ptr<WorkerPlan> publish(std::unique_ptr<WorkerPlan> plan);

  // Frames of captured ports are offered to their session (control thread, before launch).
  void set_capture(const CaptureTable* t) noexcept {
    capture_ = t;
    forwarder_.set_capture(t);
  }

  unsigned index() const noexcept { return index_; }
  unsigned lcore() const noexcept { return lcore_; }
  const WorkerPlan& plan() const noexcept { return *plan_; }
  const WorkerCounters& counters() const noexcept { return *counters_; }
  WakeUp& wakeup() noexcept { return wake_; }
  bool running() const noexcept { return launched_; }

 private:
  static int entry(void* self);
  void run() noexcept;
  void adopt_plan(const WorkerPlan* p) noexcept;
  void sleep(uint64_t& backoff_ns) noexcept;
  // Polls again the parked queues whose fds poll readable (one epoll_wait, no timeout).
  void unpark_ready() noexcept;
  void unpark_all() noexcept;
  void fd_error(uint32_t rx_index) noexcept;  // a queue's fd polled an error: stop watching it if it lasts

  static constexpr unsigned kHousekeepEvery = 256;
  static constexpr unsigned kIdleBeforeSleepUs = 500;
  static constexpr unsigned kIdleBeforeSleepAwayUs = 50;  // on another's CPU: give it back sooner
  static constexpr unsigned kHomeAfterUs = 1000;
  static constexpr int kSleepEvents = 64;
  static constexpr uint32_t kWakeEvent = ~0u;  // the epoll tag of the WakeUp eventfd

  unsigned index_;
  unsigned lcore_;
  PollMode poll_;
  WakeAffinity affinity_;  // worker thread only
  Fdb& fdb_;
  std::unique_ptr<WorkerCounters> counters_;
  Forwarder forwarder_;
  WakeUp wake_;
  UniqueFd epoll_;
  std::unique_ptr<WorkerPlan> plan_;            // the control thread's copy of the current plan
  std::atomic<const WorkerPlan*> next_{nullptr};  // handed over, not yet adopted
  std::atomic<uint64_t> adopted_{0};            // generation the worker runs
  std::atomic<bool> stop_{false};
  uint64_t generation_ = 0;
  bool launched_ = false;
  const CaptureTable* capture_ = nullptr;
  // Worker-thread state.
  const WorkerPlan* cur_ = nullptr;
  bool can_notify_ = true;  // every rx queue of the plan has a notification fd
  // Parking (Port::rx_poll_costly): per rx queue of the plan, whether its fd is in the epoll
  // set, and whether the loop skips it until that fd polls readable.
  std::vector<uint8_t> notifiable_, parked_;
  unsigned parked_n_ = 0;
  // The rx queues whose fd is in the epoll set only while the worker sleeps
  // (Port::rx_notify_asleep_only).
  std::vector<uint32_t> asleep_only_;
};

}  // namespace tapswitch
