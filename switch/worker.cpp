#include "switch/worker.h"

#include <rte_launch.h>
#include <rte_lcore.h>

#include <spdlog/spdlog.h>

#include "base/error.h"

namespace tapswitch {

Worker::Worker(unsigned index, unsigned lcore, Fdb& fdb, const std::atomic<bool>& stop)
    : index_(index),
      lcore_(lcore),
      fdb_(fdb),
      stop_(stop),
      counters_(std::make_unique<WorkerCounters>()),
      forwarder_(index, fdb, *counters_) {}

void Worker::launch() {
  int rc = rte_eal_remote_launch(&Worker::entry, this, lcore_);
  if (rc != 0) fail("cannot start worker {} on lcore {}: lcore busy", index_, lcore_);
  launched_ = true;
}

void Worker::wait() {
  if (!launched_) return;
  rte_eal_wait_lcore(lcore_);
  launched_ = false;
}

int Worker::entry(void* self) {
  static_cast<Worker*>(self)->run();
  return 0;
}

void Worker::run() noexcept {
  spdlog::debug("worker {} running on lcore {} with {} rx queues", index_, lcore_, rx_.size());
  WorkerCounters& wc = *counters_;
  rte_mbuf* pkts[kBurst];
  uint64_t iterations = 0, bursts = 0, frames = 0;
  fdb_.reader_online(index_);
  for (;;) {
    for (const RxAssignment& rx : rx_) {
      uint16_t n = rx.port->rx_burst(rx.queue, pkts, kBurst);
      if (n == 0) continue;
      ++bursts;
      frames += n;
      forwarder_.process(rx.id, pkts, n);
      forwarder_.flush();
    }
    if (++iterations % kHousekeepEvery == 0) {
      wc.iterations.add(kHousekeepEvery);
      wc.rx_bursts.add(bursts);
      wc.rx_frames.add(frames);
      bursts = frames = 0;
      fdb_.quiescent(index_);
      if (stop_.load(std::memory_order_acquire)) break;
    }
  }
  forwarder_.flush();
  fdb_.reader_offline(index_);
  spdlog::debug("worker {} stopped", index_);
}

}  // namespace tapswitch
