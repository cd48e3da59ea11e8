// FakePort: an in-memory Port for unit tests. Frames queued on `rx` are received; frames sent
// are kept in `tx` (the port owns them and frees them when it is destroyed).
#pragma once

#include <deque>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <rte_mbuf.h>

#include "ports/port.h"

namespace tapswitch::test {

class FakePort final : public Port {
 public:
  explicit FakePort(std::string name) : Port(std::move(name), PortKind::tap) {}
  ~FakePort() override {
    for (auto* m : rx) rte_pktmbuf_free(m);
    clear_tx();
  }

  uint16_t rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept override {
    uint16_t k = 0;
    while (k < n && !rx.empty()) {
      pkts[k++] = rx.front();
      rx.pop_front();
    }
    return k;
  }
  uint16_t tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept override {
    uint16_t k = 0;
    while (k < n && tx_room > 0) {
      tx.push_back(pkts[k++]);
      --tx_room;
    }
    if (sends && k) sends->push_back(name());
    return k;
  }
  void rx_release(uint16_t queue) noexcept override { released.push_back(queue); }
  LinkState link() const override { return {true, 0}; }
  PortStats stats() const override { return {}; }
  void describe(nlohmann::json& out) const override { out["fake"] = true; }

  // What the port takes on transmit, and its MTU (Port's setters, for tests).
  void set_caps(const TxOffloads& o, uint32_t mtu = kDefaultMtu) {
    set_tx_offloads(o);
    set_mtu(mtu);
  }

  void clear_tx() {
    for (auto* m : tx) rte_pktmbuf_free(m);
    tx.clear();
  }

  std::deque<rte_mbuf*> rx;
  std::vector<rte_mbuf*> tx;
  size_t tx_room = std::numeric_limits<size_t>::max();  // frames it will still accept
  std::vector<std::string>* sends = nullptr;  // if set: this port's name, per burst it takes
  std::vector<uint16_t> released;  // rx queues released by their worker, in order
};

}  // namespace tapswitch::test
