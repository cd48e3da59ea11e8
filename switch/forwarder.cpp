#include "switch/forwarder.h"

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>

#include "switch/frame.h"
#include "switch/wakeup.h"

namespace tapswitch {

const char* to_string(DropReason r) {
  switch (r) {
    case DropReason::runt: return "runt";
    case DropReason::same_port: return "same_port";
    case DropReason::no_dest: return "no_dest";
    case DropReason::tx_full: return "tx_full";
    case DropReason::filtered: return "filtered";
    case DropReason::bad_source: return "bad_source";
    case DropReason::dest_gone: return "dest_gone";
    case DropReason::oversize: return "oversize";
    case DropReason::no_mbuf: return "no_mbuf";
    case DropReason::bad_offload: return "bad_offload";
    case DropReason::count_: break;
  }
  return "?";
}

Forwarder::Forwarder(unsigned worker, Fdb& fdb, WorkerCounters& counters, rte_mempool* frames)
    : worker_(worker),
      fdb_(fdb),
      counters_(counters),
      batches_(new TxBatch[kMaxPorts]),
      dirty_(new uint16_t[kMaxPorts]),
      egress_(counters.copies, frames) {}

void Forwarder::set_ports(const std::vector<TxTarget>& ports) {
  flush();
  for (uint16_t id : flood_) batches_[id].port = nullptr;
  flood_.clear();
  for (const auto& t : ports) {
    batches_[t.id].port = t.port;
    batches_[t.id].queue = t.queue;
    batches_[t.id].ring = t.ring;
    batches_[t.id].owner = t.owner;
    flood_.push_back(t.id);
  }
}

void Forwarder::process(uint16_t in, rte_mbuf** pkts, uint16_t n) noexcept {
  SwitchPortCounters& ic = counters_.ports[in];
  FdbKey keys[2 * kBurst];  // interleaved: destination, source
  FdbEntry res[2 * kBurst];
  FrameClass cls[kBurst];
  rte_mbuf* frames[kBurst];
  rte_mbuf* drops[kBurst];
  unsigned k = 0, n_drops = 0;
  uint64_t bytes = 0;

  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    bytes += m->pkt_len;
    if (unlikely(m->data_len < kEthHeaderLen + 4) && is_runt(m)) {
      ic.drop(DropReason::runt);
      drops[n_drops++] = m;
      continue;
    }
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    cls[k] = classify(m);
    // A group or all-zero source is no station's: dropped, never looked up, learned or
    // forwarded (the Linux bridge drops such frames too).
    if (unlikely(!cls[k].src_learnable)) {
      ic.drop(DropReason::bad_source);
      drops[n_drops++] = m;
      continue;
    }
    keys[2 * k] = FdbKey::from_wire8(cls[k].vlan, p);
    keys[2 * k + 1] = FdbKey::from_wire8(cls[k].vlan, p + RTE_ETHER_ADDR_LEN);
    frames[k++] = m;
  }
  ic.rx_packets.add(n);
  ic.rx_bytes.add(bytes);

  if (k) fdb_.lookup_bulk(keys, 2 * k, res);

  const uint32_t now = Fdb::now();
  uint64_t hits = 0, misses = 0, conflicts = 0;
  bool asked = false;
  FdbKey last_asked{~0ull};
  for (unsigned j = 0; j < k; ++j) {
    rte_mbuf* m = frames[j];
    // Learning: a new source, a moved one, or one not refreshed for a second. A static entry
    // is never relearned; its MAC arriving on another port is counted (anti-spoofing).
    const FdbEntry& s = res[2 * j + 1];
    const FdbKey& sk = keys[2 * j + 1];
    const bool fixed = s.flags & kFdbStatic;
    conflicts += fixed && s.port != in;
    bool want = !fixed && (s.port != in || now - s.last_seen >= 1);
    if (unlikely(want) && !(sk == last_asked)) {
      fdb_.request_learn(worker_, sk, in);
      last_asked = sk;
      asked = true;
    }
    // Forwarding.
    if (cls[j].dst_group) {
      if (unlikely(cls[j].dst_link_local)) {
        ic.drop(DropReason::filtered);
        drops[n_drops++] = m;
      } else {
        flood(in, m, drops, n_drops);
      }
      continue;
    }
    const uint16_t out = res[2 * j].port;
    if (out == kNoPort || batches_[out].port == nullptr) {
      if (unlikely(out != kNoPort && (res[2 * j].flags & kFdbStatic))) {
        // Pinned to a port out of the data path: flooding would hand the station's frames to
        // every other port (as a down port, it gets none).
        ++hits;
        ic.drop(DropReason::dest_gone);
        drops[n_drops++] = m;
      } else {
        ++misses;
        flood(in, m, drops, n_drops);  // a learned entry lingering until its port's flush
      }
    } else if (out == in) {
      ++hits;
      ic.drop(DropReason::same_port);
      drops[n_drops++] = m;
    } else {
      ++hits;
      enqueue(out, m);
    }
  }
  if (asked) fdb_.kick(worker_);
  if (hits | misses | conflicts) fdb_.count_lookups(worker_, hits, misses, conflicts);
  if (n_drops) rte_pktmbuf_free_bulk(drops, n_drops);
}

void Forwarder::flood(uint16_t in, rte_mbuf* m, rte_mbuf** drops, unsigned& n_drops) noexcept {
  const unsigned targets = static_cast<unsigned>(flood_.size()) - (batches_[in].port ? 1u : 0u);
  if (unlikely(targets == 0)) {
    counters_.ports[in].drop(DropReason::no_dest);
    drops[n_drops++] = m;
    return;
  }
  counters_.ports[in].flooded.add();
  // Every segment: a chained frame (GSO, jumbo) is freed segment by segment.
  if (targets > 1) rte_pktmbuf_refcnt_update(m, static_cast<int16_t>(targets - 1));
  for (uint16_t id : flood_)
    if (id != in) enqueue(id, m);
}

void Forwarder::enqueue(uint16_t port, rte_mbuf* m) noexcept {
  TxBatch& b = batches_[port];
  if (!b.dirty) {
    b.dirty = true;
    dirty_[n_dirty_++] = port;
  }
  b.pkts[b.n++] = m;
  b.bytes += m->pkt_len;
  if (unlikely(b.n == kBurst)) send(port);
}

void Forwarder::send(uint16_t port) noexcept {
  TxBatch& b = batches_[port];
  const uint16_t n = b.n;
  b.n = 0;
  b.bytes = 0;
  if (b.ring) {
    // The owner of the tx queue sends them and counts them; what does not fit is ours to drop.
    unsigned k = rte_ring_sp_enqueue_burst(b.ring, reinterpret_cast<void* const*>(b.pkts), n, nullptr);
    if (k) b.owner->poke();
    if (unlikely(k < n)) {
      counters_.ports[port].drop(DropReason::tx_full, n - k);
      rte_pktmbuf_free_bulk(b.pkts + k, n - k);
    }
    return;
  }
  transmit(port, b.port, b.queue, b.pkts, n);
}

void Forwarder::transmit(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  const EgressRules rules = EgressOffload::rules(p->tx_offloads());
  const uint32_t fast_max = max_frame_len(p->mtu(), false);
  bool work = false;
  for (uint16_t i = 0; i < n; ++i) work |= EgressOffload::needs_work(pkts[i], rules, fast_max);
  if (unlikely(work))
    transmit_prepared(port, p, queue, pkts, n, rules);
  else
    send_burst(port, p, queue, pkts, n);
}

// The slow path of transmit(): frames that need segmenting, checksums, a copy, or an MTU check
// go through the egress offload first; the rest as they are.
void Forwarder::transmit_prepared(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                                  const EgressRules& rules) noexcept {
  SwitchPortCounters& oc = counters_.ports[port];
  const uint32_t mtu = p->mtu();
  const uint32_t fast_max = max_frame_len(mtu, false);
  const TxOffloads& o = p->tx_offloads();
  rte_mbuf* out[kPreparedMax];
  unsigned k = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (EgressOffload::needs_work(m, rules, fast_max))
      k += egress_.prepare(m, o, mtu, out + k, kPreparedMax - k, oc);
    else
      out[k++] = m;
    if (kPreparedMax - k < EgressOffload::kMaxSegments) {
      send_burst(port, p, queue, out, k);
      k = 0;
    }
  }
  if (k) send_burst(port, p, queue, out, k);
}

// Hands frames to the port a burst at a time until it takes less than a burst; drops the rest
// as tx_full. Lengths are read before the port takes a frame: it may free it at once.
void Forwarder::send_burst(uint16_t port, Port* p, uint16_t queue, rte_mbuf** pkts, unsigned n) noexcept {
  SwitchPortCounters& oc = counters_.ports[port];
  CaptureSession* cs = capture_ ? capture_->tx(port) : nullptr;
  unsigned sent = 0;
  uint64_t bytes = 0;
  while (sent < n) {
    const uint16_t want = static_cast<uint16_t>(std::min<unsigned>(n - sent, kBurst));
    uint32_t len[kBurst];
    for (uint16_t i = 0; i < want; ++i) len[i] = pkts[sent + i]->pkt_len;
    if (cs) [[unlikely]]
      cs->offer(pkts + sent, want, CaptureDir::tx);
    const uint16_t k = p->tx_burst(queue, pkts + sent, want);
    for (uint16_t i = 0; i < k; ++i) bytes += len[i];
    sent += k;
    if (k < want) break;
  }
  if (unlikely(sent < n)) {
    oc.drop(DropReason::tx_full, n - sent);
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
  }
  oc.tx_packets.add(sent);
  oc.tx_bytes.add(bytes);
}

unsigned Forwarder::drain(const TxDrain& d) noexcept {
  rte_mbuf* pkts[kBurst];
  unsigned n = rte_ring_sc_dequeue_burst(d.ring, reinterpret_cast<void**>(pkts), kBurst, nullptr);
  if (n) transmit(d.id, d.port, d.queue, pkts, static_cast<uint16_t>(n));
  return n;
}

void Forwarder::flush() noexcept {
  // Small batches first (see the header), then the rest, each pass in the order ports got
  // their first frame.
  for (unsigned i = 0; i < n_dirty_; ++i) {
    TxBatch& b = batches_[dirty_[i]];
    if (b.n && b.bytes < kSmallBatchBytes) send(dirty_[i]);
  }
  for (unsigned i = 0; i < n_dirty_; ++i) {
    const uint16_t port = dirty_[i];
    batches_[port].dirty = false;
    if (batches_[port].n) send(port);
  }
  n_dirty_ = 0;
}

}  // namespace tapswitch
