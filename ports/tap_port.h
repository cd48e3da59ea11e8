// TapPort: a raw-fd TAP port. The switch reads frames straight into mbufs of its pool and writes
// them straight out of mbufs, one frame per read()/write(), so no frame is ever copied between
// ports.
//
// Kinds: `tap:NAME` (created or attached by name) and `tapfd:N` (adopted fd).
//
// Concurrency: one queue; rx and tx are each used by one thread at a time (the port's counters
// have a single writer per direction).
#pragma once

#include <array>
#include <memory>

#include "base/counter.h"
#include "dpdk/pkt_pool.h"
#include "ports/port.h"
#include "ports/port_spec.h"
#include "ports/tun.h"

namespace tapswitch {

class TapPort final : public Port {
 public:
  // Opens the port a `tap:` or `tapfd:` spec describes. Throws Error with a clear reason.
  static std::unique_ptr<TapPort> open(const PortSpec& spec, PktPool& pool);

  ~TapPort() override;

  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;

  LinkState link() const override;
  PortStats stats() const override;
  void describe(nlohmann::json& out) const override;
  // The tap fd itself polls readable when a frame waits; nothing to arm.
  int rx_notify_fd(uint16_t) const noexcept override { return fd(); }
  bool rx_notify_arm(uint16_t) noexcept override { return !detached_; }

  int fd() const noexcept { return handle_.fd.get(); }
  TapOrigin origin() const noexcept { return handle_.origin; }

 private:
  TapPort(std::string name, PortKind kind, TapHandle handle, PktPool& pool);
  bool refill() noexcept;

  static constexpr unsigned kStash = 64;  // pre-allocated rx mbufs, refilled in bulk

  TapHandle handle_;
  PktPool& pool_;
  uint16_t rx_room_;  // bytes a received frame may take in one mbuf
  bool detached_ = false;  // read() said EBADFD: the interface is gone (rx worker only)

  // rx side: touched only by the owning worker.
  alignas(64) std::array<rte_mbuf*, kStash> stash_{};
  unsigned stash_n_ = 0;
  Counter rx_packets_, rx_bytes_, rx_nombuf_, rx_oversize_, rx_errors_;
  // tx side
  alignas(64) Counter tx_packets_, tx_bytes_, tx_errors_;
};

}  // namespace tapswitch
