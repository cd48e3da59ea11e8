// Worker: one forwarding thread on its own EAL lcore.
//
// The loop: poll each assigned rx queue for a burst, switch it, send the batches; every
// kHousekeepEvery iterations, report FDB quiescence and check the stop flag. The worker is an
// FDB reader (QSBR) from the start of its loop to its end.
//
// Concurrency contract:
//  - assign_rx() and set_tx() are called on the control thread before launch().
//  - While running, the worker is the only thread that touches its Forwarder, its rx queues
//    and its WorkerCounters (which the control thread may read).
//  - stop is set by the control thread; the worker leaves its loop within one housekeeping
//    period and sends what it has batched first.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "fdb/fdb.h"
#include "ports/port.h"
#include "switch/counters.h"
#include "switch/forwarder.h"

namespace tapswitch {

struct RxAssignment {
  uint16_t id;  // port id
  Port* port;
  uint16_t queue;
};

class Worker {
 public:
  Worker(unsigned index, unsigned lcore, Fdb& fdb, const std::atomic<bool>& stop);

  void assign_rx(const RxAssignment& rx) { rx_.push_back(rx); }
  void set_tx(const std::vector<TxTarget>& tx) { forwarder_.set_ports(tx); }

  // Starts the loop on the worker's lcore; throws Error if the lcore is busy.
  void launch();
  // Waits for the loop to end (after stop was set).
  void wait();

  unsigned index() const noexcept { return index_; }
  unsigned lcore() const noexcept { return lcore_; }
  const std::vector<RxAssignment>& rx() const noexcept { return rx_; }
  const WorkerCounters& counters() const noexcept { return *counters_; }

 private:
  static int entry(void* self);
  void run() noexcept;

  static constexpr unsigned kHousekeepEvery = 256;

  unsigned index_;
  unsigned lcore_;
  Fdb& fdb_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<WorkerCounters> counters_;
  Forwarder forwarder_;
  std::vector<RxAssignment> rx_;
  bool launched_ = false;
};

}  // namespace tapswitch
