#include "bench/ring_port.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <nlohmann/json.hpp>

namespace tapswitch::bench {

namespace {
constexpr unsigned kFlags = RING_F_SP_ENQ | RING_F_SC_DEQ;

void free_all(rte_ring* r) {
  rte_mbuf* m[64];
  unsigned n;
  while ((n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(m), 64, nullptr)) > 0)
    rte_pktmbuf_free_bulk(m, n);
}
}  // namespace

RingPort::RingPort(std::string name, unsigned ring_size)
    : Port(std::move(name), PortKind::dpdk), rx_("brx", ring_size, kFlags), tx_("btx", ring_size, kFlags) {}

RingPort::~RingPort() {
  free_all(rx_.get());
  free_all(tx_.get());
}

uint16_t RingPort::rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  return static_cast<uint16_t>(rte_ring_sc_dequeue_burst(rx_.get(), reinterpret_cast<void**>(pkts), n, nullptr));
}

uint16_t RingPort::tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  return static_cast<uint16_t>(rte_ring_sp_enqueue_burst(tx_.get(), reinterpret_cast<void**>(pkts), n, nullptr));
}

void RingPort::describe(nlohmann::json& out) const { out["ring"] = true; }

unsigned Wire::deliver() noexcept {
  constexpr unsigned kChunk = 64;
  unsigned total = 0;
  rte_mbuf* m[kChunk];
  for (const auto& p : ports_) {
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(p->tx_ring(), reinterpret_cast<void**>(m), kChunk, nullptr)) > 0) {
      total += n;
      // Runs of frames from one origin go back in one enqueue.
      unsigned i = 0;
      while (i < n) {
        rte_mbuf* run[kChunk];
        unsigned k = 0;
        const uint16_t origin = m[i]->port;
        for (; i < n && m[i]->port == origin; ++i) {
          if (rte_mbuf_refcnt_read(m[i]) > 1)
            rte_mbuf_refcnt_update(m[i], -1);  // another egress copy is still out
          else
            run[k++] = m[i];
        }
        if (k == 0) continue;
        unsigned put = rte_ring_sp_enqueue_burst(ports_[origin]->rx_ring(), reinterpret_cast<void**>(run), k,
                                                 nullptr);
        if (put < k) rte_pktmbuf_free_bulk(run + put, k - put);  // cannot happen: rings hold every frame
      }
    }
  }
  return total;
}

}  // namespace tapswitch::bench
