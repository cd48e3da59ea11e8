// RingPort and Wire: in-memory ports for the switching-core microbenchmark (no kernel).
//
// A RingPort is a Port over two single-producer/single-consumer rte_rings: rx_burst dequeues
// from its rx ring, tx_burst enqueues on its tx ring (a full ring refuses the rest, like a full
// NIC queue). The Wire plays the hosts behind the ports: it takes what every port sent and puts
// each frame back on the rx ring of the port it was first received from (mbuf->port, which the
// switch never changes), so the same frames circulate for as long as the benchmark runs. A
// flooded frame reaches the Wire once per egress port with its reference count raised; the Wire
// drops the extra references and recycles the frame on the last one.
//
// Everything runs on the benchmark's one thread.
#pragma once

#include <memory>
#include <vector>

#include "dpdk/ring.h"
#include "ports/port.h"

namespace tapswitch::bench {

class RingPort final : public Port {
 public:
  RingPort(std::string name, unsigned ring_size);
  ~RingPort() override;  // frees the frames still queued on either ring

  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;
  LinkState link() const override { return {true, 0}; }
  PortStats stats() const override { return {}; }
  void describe(nlohmann::json& out) const override;

  rte_ring* rx_ring() const noexcept { return rx_.get(); }
  rte_ring* tx_ring() const noexcept { return tx_.get(); }

 private:
  Ring rx_, tx_;
};

class Wire {
 public:
  explicit Wire(const std::vector<std::unique_ptr<RingPort>>& ports) : ports_(ports) {}
  // Moves every sent frame back to its origin's rx ring. Returns the frames taken off tx rings
  // (one per egress copy).
  unsigned deliver() noexcept;

 private:
  const std::vector<std::unique_ptr<RingPort>>& ports_;
};

}  // namespace tapswitch::bench
