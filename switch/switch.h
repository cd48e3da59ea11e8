// Switch: the assembled data plane. It owns the mbuf pool, the FDB, the ports and the workers.
//
// Life cycle (all on the control thread):
//   Switch(config)  creates the pool, the FDB and the workers and opens every port; on any
//                   failure it throws Error and whatever was opened is closed again (taps it
//                   created disappear).
//   start()         launches the workers.
//   add_port(), remove_port()
//                   change the port set while the workers run: a new plan goes to every worker
//                   (switch/worker_plan.h) and the other ports never stop forwarding.
//   stop()          stops the workers; they send what they had batched.
//   ~Switch()       stops, closes the ports (returning their mbufs), frees the FDB and pool.
//
// Port ids index slots; the FDB stores them. A removed port's id is reused only after its FDB
// entries are gone and no worker can still act on a lookup that named it (Fdb::remove_port).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dpdk/pkt_pool.h"
#include "dpdk/ring.h"
#include "fdb/fdb.h"
#include "ports/port.h"
#include "switch/capture_manager.h"
#include "switch/capture_table.h"
#include "switch/config.h"
#include "switch/counters.h"
#include "switch/rxq_assign.h"
#include "switch/worker.h"

namespace tapswitch {

struct PortRecord {
  uint16_t id;
  PortSpec spec;
  std::unique_ptr<Port> port;
  bool detached = false;  // its interface was deleted: listed, but out of every worker's plan
  PortStats earlier{};    // what the port's former openings counted (reattach_port)

  // The port's own counters since it was added, across re-attachments.
  PortStats stats() const {
    PortStats s = port->stats();
    return s += earlier;
  }
};

class Switch {
 public:
  explicit Switch(const SwitchConfig& config);
  ~Switch();
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  void start();
  void stop();

  // Opens the port and starts forwarding to and from it. Throws Error (and changes nothing)
  // if the spec is bad, a duplicate, or the port cannot open. A link: port whose interface
  // does not exist yet is added detached, and attached once it appears (switch/link_monitor.h).
  const PortRecord& add_port(const PortSpec& spec);
  // Stops forwarding to and from the port, then closes it. Throws Error if there is none.
  void remove_port(const std::string& name);
  // Interface churn (switch/link_monitor.h): take a port whose interface vanished out of the
  // data path, and later open it again from its spec (same id). reattach_port throws Error
  // if it cannot open yet.
  void detach_port(uint16_t id);
  void reattach_port(uint16_t id);
  // Flushes the port's learned FDB entries; returns how many.
  size_t forget_port(uint16_t id);

  Fdb& fdb() noexcept { return *fdb_; }
  const PktPool& pool() const noexcept { return *pool_; }
  std::vector<const PortRecord*> ports() const;
  const PortRecord* port(uint16_t id) const noexcept;
  const PortRecord* find_port(const std::string& name) const noexcept;
  const std::vector<std::unique_ptr<Worker>>& workers() const noexcept { return workers_; }
  const RxPlacement& rx_placement() const noexcept { return placement_; }
  PollMode poll_mode() const noexcept { return config_.dp.poll; }
  WakeCpu wake_cpu() const noexcept { return config_.dp.wake; }
  CaptureTable& captures() noexcept { return captures_; }
  CaptureManager& capture_manager() noexcept { return *capman_; }
  // The mbuf pool's size for a configuration (--mbufs, or sized from the ports).
  static unsigned pool_size(const SwitchConfig& config);
  // DPDK memory in MB a configuration needs: the pool and the 64 KB buffers of each raw-fd tap
  // queue, with room for ports added later; at least 512 (--memory 0, the default).
  static unsigned memory_mb(const SwitchConfig& config);
  // The FDB's table in MB: its own mapping outside DPDK's memory, resident from the start.
  static unsigned fdb_memory_mb(const SwitchConfig& config);
  // Returns once every running worker has passed a housekeeping point.
  void sync_workers();
  // The switch's own counters for one port, summed over the workers.
  SwitchPortTotals totals(uint16_t id) const;

 private:
  uint16_t free_id() const;
  // Opens the port, refusing one on an interface or with a name another port has (check_clash);
  // for a link: port whose interface does not exist yet, a stand-in instead
  // (ports/absent_port.h) and waiting = true: the record is then added detached.
  std::unique_ptr<Port> open_or_wait(const PortSpec& spec, bool& waiting);
  void log_added(const PortRecord& rec);
  // Throws Error if a port (other than `self`) switches that kernel interface.
  void check_interface_free(const PortSpec& spec, const KernelInterface& iface, int self = -1) const;
  // Throws Error if another port (other than `self`) has the name `port` took (a tapfd: port is
  // named after its tap) or switches the same kernel interface.
  void check_clash(const PortSpec& spec, const Port& port, int self = -1) const;
  void replan(bool strict_pins = false);
  void discard_ring(uint16_t port, Ring& ring);  // frees a tx ring's frames, counting them

  SwitchConfig config_;
  bool running_ = false;
  // Declaration order is destruction order in reverse: workers, rings, then ports (which hand
  // their mbufs back), then the FDB and the pool.
  std::unique_ptr<PktPool> pool_;
  std::unique_ptr<Fdb> fdb_;
  std::vector<std::unique_ptr<PortRecord>> slots_;  // index: port id; null: free
  std::vector<SwitchPortTotals> baseline_;          // per id: counted before the port took it
  std::vector<uint64_t> discarded_;                 // per id: frames freed from tx rings that went
  RxPlacement placement_;
  std::map<std::pair<unsigned, uint16_t>, std::unique_ptr<Ring>> rings_;  // (sender, port id)
  std::vector<std::unique_ptr<Worker>> workers_;
  CaptureTable captures_;
  std::unique_ptr<CaptureManager> capman_;
};

}  // namespace tapswitch
