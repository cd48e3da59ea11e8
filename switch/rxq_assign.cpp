#include "switch/rxq_assign.h"

#include "base/error.h"

namespace tapswitch {

RxPlacement place_rx_queues(const std::vector<PortQueues>& ports, unsigned workers,
                            const std::vector<RxPin>& pins, const RxPlacement& current) {
  RxPlacement out;
  std::vector<unsigned> load(workers, 0);
  auto pinned = [&](const PortQueues& p, uint16_t q) -> int {
    for (const auto& pin : pins)
      if (pin.port == p.name && pin.queue == q) return static_cast<int>(pin.worker);
    return -1;
  };
  for (const auto& pin : pins) {
    bool found = false;
    for (const auto& p : ports) {
      if (p.name != pin.port) continue;
      found = true;
      if (pin.queue >= p.rx_queues)
        fail("--rxq-affinity: port {} has {} rx queue(s); queue {} does not exist", p.name, p.rx_queues, pin.queue);
    }
    if (!found) fail("--rxq-affinity: there is no port named '{}'", pin.port);
    if (pin.worker >= workers) fail("--rxq-affinity: worker {} does not exist", pin.worker);
  }
  // Keep what is already placed, and honour pins.
  for (const auto& p : ports) {
    for (uint16_t q = 0; q < p.rx_queues; ++q) {
      int w = pinned(p, q);
      auto it = current.find({p.id, q});
      if (w < 0 && it != current.end() && it->second < workers) w = static_cast<int>(it->second);
      if (w >= 0) {
        out[{p.id, q}] = static_cast<unsigned>(w);
        ++load[static_cast<unsigned>(w)];
      }
    }
  }
  // The rest goes to the least loaded worker.
  for (const auto& p : ports) {
    for (uint16_t q = 0; q < p.rx_queues; ++q) {
      if (out.count({p.id, q})) continue;
      unsigned best = 0;
      for (unsigned w = 1; w < workers; ++w)
        if (load[w] < load[best]) best = w;
      out[{p.id, q}] = best;
      ++load[best];
    }
  }
  return out;
}

TxRoute tx_route(const PortQueues& p, unsigned w) {
  if (p.tx_mt_safe) return {static_cast<uint16_t>(w % p.tx_queues), w};
  if (w < p.tx_queues) return {static_cast<uint16_t>(w), w};
  const unsigned sender = w % p.tx_queues;
  return {static_cast<uint16_t>(sender), sender};
}

}  // namespace tapswitch
