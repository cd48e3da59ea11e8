// Forwarder: the switching core. Given a burst from one port, it learns, decides and batches
// each frame for its egress ports, then sends the batches. No allocation, no locks, no syscalls
// of its own (the ports make theirs), no exceptions.
//
// Decisions, per frame:
//   shorter than 14 bytes                      -> drop (runt)
//   01:80:c2:00:00:01..0f (802.1D link-local)  -> drop (filtered)
//   broadcast or multicast destination         -> flood: every active port but the ingress one
//   destination not in the FDB                 -> flood (unknown unicast)
//   destination learned on the ingress port    -> drop (same_port)
//   destination learned on another port        -> that port only
//   destination on a port out of the data path -> flood (a learned entry until its port's
//                                                 flush), drop (dest_gone) for a static one
//   a flood with no other port                 -> drop (no_dest)
// and, independently, a unicast non-zero source is learned on the ingress port.
//
// Flooding never copies frame data: the reference count of each of the frame's mbufs is raised
// once per extra destination and each egress frees its reference after sending.
//
// Tx: frames leave on this worker's own tx queue of the port, or go through a single-producer
// ring to the worker that owns the queue (see switch/rxq_assign.h); that worker calls drain().
//
// Batches are sent when full and at flush(), which sends the small ones first (below
// kSmallBatchBytes: acknowledgements, pings, ARP) and then the bulk: a tap write of a 64 KB GSO
// frame runs the receiver's stack inside it, so a ping reply batched behind 32 of them would
// wait for all of them. Order within a port is kept; only ports trade places.
//
// On the way out, a frame with offloads its egress port cannot take (a GSO frame, a partial
// checksum), or longer than the port's MTU allows, goes through the EgressOffload
// (switch/egress_offload.h), on the worker that sends it; a burst without such frames costs one
// flag test per frame.
//
// Concurrency: a Forwarder belongs to one worker thread. set_ports() is called by that thread
// or while it is not running.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "fdb/fdb.h"
#include "ports/port.h"
#include "switch/capture_table.h"
#include "switch/counters.h"
#include "switch/egress_offload.h"
#include "switch/worker_plan.h"

namespace tapswitch {

class Forwarder {
 public:
  // `frames`: the switch's pool, for the copies and segments it makes (EgressOffload).
  Forwarder(unsigned worker, Fdb& fdb, WorkerCounters& counters, rte_mempool* frames);

  // The ports frames may leave through. Sends whatever is still batched first.
  void set_ports(const std::vector<TxTarget>& ports);

  // Switches n <= kBurst frames received on port `in`; they are batched, not yet sent.
  void process(uint16_t in, rte_mbuf** pkts, uint16_t n) noexcept;
  // Sends every batched frame, small batches first; what a port does not accept is dropped
  // and counted.
  void flush() noexcept;
  // A batch of fewer bytes than this goes out before the others at flush() (half a burst of
  // full-size frames; a burst of 64-byte frames or acknowledgements is 2-3 KB).
  static constexpr uint32_t kSmallBatchBytes = 16 * 1024;
  // Frames handed to a captured port are offered to its capture session first.
  void set_capture(const CaptureTable* t) noexcept { capture_ = t; }
  // Sends up to one burst from another worker's ring onto a tx queue this worker owns.
  // Returns the frames taken from the ring.
  unsigned drain(const TxDrain& d) noexcept;

 private:
  struct TxBatch {
    Port* port = nullptr;
    uint16_t queue = 0;
    uint16_t n = 0;
    uint32_t bytes = 0;        // of the frames batched (pkt_len)
    rte_ring* ring = nullptr;  // hand to the owner of the queue instead of sending
    WakeUp* owner = nullptr;
    bool dirty = false;  // listed in dirty_
    rte_mbuf* pkts[kBurst];
  };

  void flood(uint16_t in, rte_mbuf* m, rte_mbuf** drops, unsigned& n_drops) noexcept;
  void enqueue(uint16_t port, rte_mbuf* m) noexcept;
  void send(uint16_t port) noexcept;
  void transmit(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept;
  void transmit_prepared(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                         const EgressRules& rules) noexcept;
  void send_burst(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, unsigned n) noexcept;

  static constexpr unsigned kPreparedMax = EgressOffload::kMaxSegments + kBurst;

  unsigned worker_;
  Fdb& fdb_;
  WorkerCounters& counters_;
  std::unique_ptr<TxBatch[]> batches_;   // indexed by port id
  std::vector<uint16_t> flood_;          // ids of the active ports
  std::unique_ptr<uint16_t[]> dirty_;    // ports with batched frames
  unsigned n_dirty_ = 0;
  const CaptureTable* capture_ = nullptr;
  EgressOffload egress_;                 // what a port cannot do, done in software
};

}  // namespace tapswitch
