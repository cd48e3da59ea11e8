// AbsentPort: stands in for a `link:NAME` port whose interface does not exist yet (a VM that has
// not started: its tap appears with it). The switch keeps such a port's record detached, out of
// every worker's plan, and its link monitor opens the real port once the interface appears
// (switch/link_monitor.h), as for one whose interface went away.
//
// Concurrency: no worker ever calls it; the control thread only.
#pragma once

#include <nlohmann/json.hpp>

#include "ports/port.h"
#include "ports/port_spec.h"

namespace tapswitch {

class AbsentPort final : public Port {
 public:
  explicit AbsentPort(const PortSpec& spec) : Port(spec.name, spec.kind), ifname_(spec.ifname) {}

  uint16_t rx_burst(uint16_t, rte_mbuf**, uint16_t) noexcept override { return 0; }
  uint16_t tx_burst(uint16_t, rte_mbuf**, uint16_t) noexcept override { return 0; }
  LinkState link() const override { return {.up = false, .speed_mbps = 0, .gone = true}; }
  PortStats stats() const override { return {}; }
  void describe(nlohmann::json& out) const override {
    out["ifname"] = ifname_;
    out["waiting"] = true;  // for an interface of that name to appear
  }
  uint16_t rx_queues() const noexcept override { return 0; }
  uint16_t tx_queues() const noexcept override { return 0; }

 private:
  std::string ifname_;
};

}  // namespace tapswitch
