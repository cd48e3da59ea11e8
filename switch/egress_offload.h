// EgressOffload: makes each frame fit the port it leaves through, just before it goes.
//
// A frame may carry offloads from its ingress port (a partial checksum, a GSO frame of up to
// 64 KB; see ports/vnet_hdr.h) that its egress port cannot take, or be longer than the egress
// MTU allows (ports/port.h). Per frame and egress port:
//   GSO frame, port takes that GSO type, segments fit the MTU  -> as it is
//   GSO frame that fits one frame of the MTU                   -> checksum completed, sent whole
//   GSO frame otherwise                                        -> segmented to the MTU (and to
//        its own segment size), every segment with complete checksums (switch/soft_offload.h);
//        UDP datagrams cannot be re-cut: larger than the MTU, they are dropped (oversize)
//   longer than the MTU allows                                 -> dropped (oversize)
//   partial checksum, port cannot complete it                  -> completed in software
//   chained mbuf, port takes only single segments              -> copied into one mbuf (a
//        GSO frame too long for one is segmented instead, to frames that fit one mbuf)
// A frame shared with other egress ports (flooded) is copied before it is changed, and is never
// handed to librte_gso (which changes its input's flags while it works). Nothing is
// truncated, and every drop is counted on the egress port by reason: oversize, no_mbuf (a pool
// ran dry), bad_offload (offload fields that do not match the frame).
//
// Concurrency: one per worker (it owns a pool of indirect mbufs for zero-copy segmentation).
// No allocation except mbufs from pools, no exceptions, on the per-frame path.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dpdk/pkt_pool.h"
#include "ports/port.h"
#include "switch/counters.h"

namespace tapswitch {

// Which frames need a look before they go to a port: computed once per port.
struct EgressRules {
  uint64_t check_flags = 0;  // offload flags that send a frame to prepare()
  bool check_segs = false;   // chained frames too (port without multi-segment transmit)
};

class EgressOffload {
 public:
  // Most frames one prepare() may produce: a 64 KB GSO frame cut for an MTU of about 300.
  static constexpr unsigned kMaxSegments = 256;

  // `copies` counts frames whose data it copies (the worker's WorkerCounters::copies); copies
  // and segment headers come from `frames` (the switch's pool). Throws Error if its pool of
  // indirect mbufs cannot be created.
  EgressOffload(Counter& copies, rte_mempool* frames);
  EgressOffload(const EgressOffload&) = delete;
  EgressOffload& operator=(const EgressOffload&) = delete;

  static EgressRules rules(const TxOffloads& o) noexcept;

  // The per-frame test, for every frame; `fast_max` is max_frame_len(mtu, false).
  static bool needs_work(const rte_mbuf* m, const EgressRules& r, uint32_t fast_max) noexcept {
    return (m->ol_flags & r.check_flags) || m->pkt_len > fast_max || (r.check_segs && m->nb_segs > 1);
  }

  // Takes frame m (its reference) and puts what the port should send in out[0..k), returning k:
  // m itself, a copy, or its segments; 0 if it was dropped (and counted in c). cap >= kMaxSegments.
  unsigned prepare(rte_mbuf* m, const TxOffloads& o, uint32_t mtu, rte_mbuf** out, unsigned cap,
                   SwitchPortCounters& c) noexcept;

 private:
  unsigned drop(rte_mbuf* m, DropReason r, SwitchPortCounters& c) noexcept;
  unsigned complete_checksum(rte_mbuf* m, const TxOffloads& o, rte_mbuf** out, SwitchPortCounters& c) noexcept;
  unsigned pass(rte_mbuf* m, const TxOffloads& o, rte_mbuf** out, SwitchPortCounters& c) noexcept;

  Counter& copies_;
  rte_mempool* frames_;
  PktPool indirect_;  // mbufs without data, pointing into the frame being segmented
};

}  // namespace tapswitch
