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

  // Control thread only.
  void set(uint16_t port, CaptureSession* s, bool rx, bool tx) noexcept {
    rx_[port].store(rx ? s : nullptr, std::memory_order_release);
    tx_[port].store(tx ? s : nullptr, std::memory_order_release);
  }
  void clear(uint16_t port) noexcept { set(port, nullptr, false, false); }

 private:
  std::array<std::atomic<CaptureSession*>, kMaxPorts> rx_{}, tx_{};
};

}  // namespace tapswitch
