// TapUring: batched I/O for a raw-fd tap through io_uring (liburing).
//
// Receive: kRxDepth reads (readv into a TapRxFrames slot each) stay armed on the fd. The ring
// runs with DEFER_TASKRUN, so the kernel performs a read only when the receiving thread asks for
// events; TASKRUN_FLAG tells it, through shared memory, when there is something to ask for. An
// idle poll therefore costs no syscall, and a busy one a single io_uring_enter that completes
// every ready read and re-arms the slots consumed by the previous poll. Completions arrive in
// the order the reads ran, which is the order of the frames.
//
// Transmit: one writev per frame, all of a burst submitted with one io_uring_enter. Tap writes
// complete within that call; the frames are freed as their completions are reaped, and a frame
// whose write did not complete yet keeps its slot until it does.
//
// Concurrency: rx() is called by one thread, always the same (the ring is SINGLE_ISSUER, bound
// to the first thread that calls rx()); if another thread calls it, rx_failed() turns true and
// the port falls back to readv(). tx() is called by one thread at a time, any thread.
//
// Teardown: closing a DEFER_TASKRUN ring cancels its armed reads without running them, so the
// slots' mbufs can be freed right after.
#pragma once

#include <liburing.h>

#include <array>
#include <memory>
#include <string>

#include "base/counter.h"
#include "ports/tap_frames.h"

namespace tapswitch {

struct TapTxCounters {
  Counter packets, bytes, errors;
  Counter last_error;  // errno of the latest failed write, for `show ports`
};

class TapUring {
 public:
  static constexpr unsigned kRxDepth = 16;  // reads armed; a poll takes up to this many frames
  static constexpr unsigned kTxDepth = 64;

  // Sets up both rings for `fd`; returns nullptr and the kernel's reason if io_uring cannot be
  // used here (old kernel, io_uring disabled, seccomp...).
  static std::unique_ptr<TapUring> create(int fd, std::string* why);
  ~TapUring();
  TapUring(const TapUring&) = delete;
  TapUring& operator=(const TapUring&) = delete;

  uint16_t rx(TapRxFrames& frames, uint32_t mtu, rte_mbuf** pkts, uint16_t n) noexcept;
  // Takes frames from the front of pkts while it has free slots; returns how many it took (sent
  // or counted in errors, and freed, by now or later).
  uint16_t tx(rte_mbuf** pkts, uint16_t n, uint8_t hdr_len, TapTxCounters& c) noexcept;

  bool rx_failed() const noexcept { return rx_failed_; }
  // A read said EBADFD: the interface was deleted. Its slot is not re-armed.
  bool rx_detached() const noexcept { return rx_detached_; }
  // Why rx failed, for the log.
  int rx_error() const noexcept { return rx_error_; }
  unsigned tx_in_flight() const noexcept { return kTxDepth - tx_free_n_; }

 private:
  TapUring(int fd) : fd_(fd) {}
  bool start_rx(TapRxFrames& frames) noexcept;
  void arm(TapRxFrames& frames, unsigned slot) noexcept;
  void reap_tx(TapTxCounters& c) noexcept;
  void fail_rx(int err) noexcept;

  struct TxSlot {
    rte_mbuf* m = nullptr;
    VnetHdrBuf hdr;
    iovec iov[kMaxTxIov];
  };

  int fd_;
  // rx side
  io_uring rx_ring_{};
  bool rx_ring_ok_ = false, rx_started_ = false, rx_failed_ = false, rx_detached_ = false;
  int rx_error_ = 0;
  std::array<RxSlot, kRxDepth> rx_slots_{};
  std::array<uint8_t, kRxDepth> rx_idle_{};  // slots without buffers (pool was empty)
  unsigned rx_idle_n_ = 0;
  // tx side
  io_uring tx_ring_{};
  bool tx_ring_ok_ = false;
  std::unique_ptr<TxSlot[]> tx_slots_;
  std::array<uint8_t, kTxDepth> tx_free_{};
  unsigned tx_free_n_ = 0;
};

}  // namespace tapswitch
