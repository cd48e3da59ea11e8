// CaptureTable: which ports are being captured, as the data path sees it.
//
// One atomic pointer per port and direction; null (the normal case) costs the data path one
// relaxed load and a not-taken branch per burst. Set and cleared by the control thread only;
// a session taken out stays alive until every worker passed a housekeeping point
// (Switch::sync_workers), since a worker may still be inside offer().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "capture/capture_session.h"
#include "switch/counters.h"

namespace tapswitch {

class CaptureTable {
 public:
  CaptureSession* rx(uint16_t port) const noexcept { return rx_[port].load(std::memory_order_acquire); }
  CaptureSession* tx(uint16_t port) const noexcept { return tx_[port].load(std::memory_order_acquire); }
  bool busy(uint16_t port) const noexcept { return rx(port) || tx(port); }
  bool holds(uint16_t port, const CaptureSession* s) const noexcept { return rx(port) == s || tx(port) == s; }

  // Control thread only. set() hooks s to the directions asked for; a session capturing the
  // other direction of the port keeps it.
  void set(uint16_t port, CaptureSession* s, bool rx, bool tx) noexcept {
    if (rx) rx_[port].store(s, std::memory_order_release);
    if (tx) tx_[port].store(s, std::memory_order_release);
  }
  // Takes s out of the port, leaving any other session.
  void clear(uint16_t port, const CaptureSession* s) noexcept {
    if (rx(port) == s) rx_[port].store(nullptr, std::memory_order_release);
    if (tx(port) == s) tx_[port].store(nullptr, std::memory_order_release);
  }
  // Takes every session out of the port (it is being removed).
  void clear(uint16_t port) noexcept {
    rx_[port].store(nullptr, std::memory_order_release);
    tx_[port].store(nullptr, std::memory_order_release);
  }

 private:
  std::array<std::atomic<CaptureSession*>, kMaxPorts> rx_{}, tx_{};
};

}  // namespace tapswitch
