// WorkerPlan: one worker's share of the data plane, built by the control thread.
//
// The control thread builds a new plan whenever ports come or go and hands it to the worker
// (Worker::publish); the worker switches to it at its next housekeeping point, after sending
// what it had batched. The old plan, and any port or ring that only it named, may be freed
// once the worker has acknowledged the new one.
#pragma once

#include <cstdint>
#include <vector>

#include "ports/port.h"

struct rte_ring;

namespace tapswitch {

class WakeUp;

struct RxAssignment {
  uint16_t id;  // port id
  Port* port;
  uint16_t queue;
};

// How this worker sends to one port: straight to a tx queue of its own, or through a ring to
// the worker that owns the queue (ring != nullptr; `owner` is woken if it sleeps).
struct TxTarget {
  uint16_t id;
  Port* port;
  uint16_t queue;
  rte_ring* ring = nullptr;
  WakeUp* owner = nullptr;
};

// A ring that this worker empties onto a tx queue it owns.
struct TxDrain {
  uint16_t id;
  Port* port;
  uint16_t queue;
  rte_ring* ring;
};

struct WorkerPlan {
  uint64_t generation = 0;
  std::vector<RxAssignment> rx;
  std::vector<TxTarget> tx;
  std::vector<TxDrain> drains;
};

}  // namespace tapswitch
