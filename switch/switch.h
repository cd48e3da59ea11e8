// Switch: the assembled data plane. It owns the mbuf pool, the FDB, the ports and the workers.
//
// Life cycle (all on the control thread):
//   Switch(config)  creates the pool and the FDB and opens every port; on any failure it throws
//                   Error and whatever was opened is closed again (taps it created disappear).
//   start()         gives every rx queue to a worker and launches the workers.
//   stop()          stops the workers; they send what they had batched.
//   ~Switch()       stops, closes the ports (returning their mbufs), frees the FDB and pool.
//
// Port ids are dense indexes into ports(); the FDB stores them.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "dpdk/pkt_pool.h"
#include "fdb/fdb.h"
#include "ports/port.h"
#include "switch/config.h"
#include "switch/counters.h"
#include "switch/worker.h"

namespace tapswitch {

struct PortRecord {
  uint16_t id;
  PortSpec spec;
  std::unique_ptr<Port> port;
};

class Switch {
 public:
  explicit Switch(const SwitchConfig& config);
  ~Switch();
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  void start();
  void stop();

  Fdb& fdb() noexcept { return *fdb_; }
  const PktPool& pool() const noexcept { return *pool_; }
  const std::vector<PortRecord>& ports() const noexcept { return ports_; }
  const PortRecord* port(uint16_t id) const noexcept;
  const std::vector<std::unique_ptr<Worker>>& workers() const noexcept { return workers_; }
  // The switch's own counters for one port, summed over the workers.
  SwitchPortTotals totals(uint16_t id) const;

 private:
  static unsigned pool_size(const SwitchConfig& config);

  SwitchConfig config_;
  std::atomic<bool> stop_{false};
  bool running_ = false;
  // Declaration order is destruction order in reverse: workers, then ports (which hand their
  // mbufs back), then the FDB and the pool.
  std::unique_ptr<PktPool> pool_;
  std::unique_ptr<Fdb> fdb_;
  std::vector<PortRecord> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tapswitch
