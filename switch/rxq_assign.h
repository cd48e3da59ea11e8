// Which worker polls which rx queue, and how each worker reaches each port's tx side.
//
// Pure functions of the port list and the worker count, so they can be tested without DPDK.
//
// Rx: every rx queue belongs to exactly one worker. Pinned queues (--rxq-affinity) go where
// they are told; every other queue goes to the worker with the fewest queues, lowest index
// first, in port order. With no pins that is round-robin, and a port added later lands on the
// least loaded workers without moving anyone else's queues.
//
// Tx: worker w has its own tx queue on a port when w < the port's tx queue count (or the port
// kind tolerates concurrent callers). Otherwise it hands frames to worker (w mod txq) through a
// single-producer/single-consumer ring, and that worker sends them on its own queue. So no two
// threads ever use one tx queue, and a flow (one rx queue, hence one worker) always takes one
// path to its egress port and is never reordered.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tapswitch {

struct PortQueues {
  uint16_t id;
  std::string name;
  uint16_t rx_queues;
  uint16_t tx_queues;
  bool tx_mt_safe = false;
};

struct RxPin {
  std::string port;
  unsigned queue;
  unsigned worker;
};

// (port id, rx queue) -> worker. `current` keeps existing placements (for ports added at
// runtime); entries for ports no longer listed are dropped. Throws Error for a pin that names
// an unknown port or queue.
using RxPlacement = std::map<std::pair<uint16_t, uint16_t>, unsigned>;
RxPlacement place_rx_queues(const std::vector<PortQueues>& ports, unsigned workers,
                            const std::vector<RxPin>& pins, const RxPlacement& current = {});

struct TxRoute {
  uint16_t queue;   // the tx queue the frames leave on
  unsigned sender;  // the worker that calls tx_burst on that queue (== w when direct)
};

// How worker w reaches port p.
TxRoute tx_route(const PortQueues& p, unsigned w);

}  // namespace tapswitch
