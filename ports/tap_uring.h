// TapUring: batched I/O for a raw-fd tap through io_uring (liburing).
//
// Receive: one multishot poll stays armed on the fd. The ring runs with DEFER_TASKRUN, so the
// poll's wake-ups wait until the receiving thread asks for events, and TASKRUN_FLAG tells it,
// through shared memory, when there is something to ask for: an idle rx() costs no syscall.
// When the fd may be readable (the poll fired, or the last batch came back full), rx() queues a
// batch of RWF_NOWAIT read()s (into TapRxFrames slots) and one io_uring_enter runs them all:
// each returns a frame or -EAGAIN at once, in order, so completions come in frame order. The
// batch grows while batches come back full and shrinks to what the last one found.
//
// (Reads armed in advance were tried first: every armed read waits on the tun queue, so every
// frame woke all of them, and each re-armed its poll: about 12 poll arms per frame with 16 reads
// armed, measured with the io_uring:io_uring_poll_arm tracepoint.)
//
// Transmit: one write per frame (writev for a chained or shared frame), all of a burst
// submitted with one io_uring_enter. Tap writes complete within that call; the frames are
// freed as their completions are reaped, and a frame whose write did not complete yet keeps
// its slot until it does.
//
// Concurrency: rx() is called by one thread at a time (the ring is SINGLE_ISSUER, bound to the
// first thread that calls rx()). A queue that moves to another thread (a worker's re-plan) is
// released first by the thread that had it (rx_release()), and the next rx() makes a new ring
// for its own thread; if another thread calls rx() without that, rx_failed() turns true and the
// port falls back to read(). tx() is called by one thread at a time, any thread.
//
// Teardown: the multishot poll holds a reference to the tun file. Closing a DEFER_TASKRUN ring
// cancels it, but the kernel drops that reference later, from a work queue, so the tap would
// outlive its port for a moment (its name still taken). So the receiving thread ends the poll
// itself, with rx_release(), when the queue leaves its care; the ring then holds nothing of the
// tap. Reads are never in flight between two rx() calls (they complete within the call).
#pragma once

#include <liburing.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include "base/counter.h"
#include "ports/tap_frames.h"
#include "ports/tx_failures.h"

namespace tapswitch {

struct TapTxCounters : TxFailures {
  Counter packets, bytes;
};

class TapUring {
 public:
  static constexpr unsigned kRxDepth = 32;  // reads per batch at most (16: 60 B frames 9% slower)
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

  // Receiving thread only, when the queue leaves its care: ends the armed poll (rx_quiesce())
  // and lets the next rx(), on any thread, take the queue with a ring of its own.
  void rx_release() noexcept;

  bool rx_failed() const noexcept { return rx_failed_.load(std::memory_order_relaxed); }
  // A read said EBADFD: the interface was deleted. Its slot is not re-armed.
  bool rx_detached() const noexcept { return rx_detached_.load(std::memory_order_relaxed); }
  // Why rx failed, for the log.
  int rx_error() const noexcept { return rx_error_; }
  unsigned tx_in_flight() const noexcept { return kTxDepth - tx_free_n_; }

 private:
  TapUring(int fd) : fd_(fd) {}
  int init_rx_ring() noexcept;
  bool start_rx() noexcept;
  // Cancels the armed poll and waits for its last completion (receiving thread; from another
  // thread, or on a failed ring, the poll stays armed and ends when the ring closes).
  void rx_quiesce() noexcept;
  unsigned queue_reads(TapRxFrames& frames, unsigned k) noexcept;
  // Takes one completion that is not a read's result (poll or cancel); false for a read's.
  bool note_control_cqe(const io_uring_cqe* cqe) noexcept;
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
  bool rx_ring_ok_ = false, rx_started_ = false;
  bool rx_rebind_ = false;  // released: the next start_rx() makes the ring anew
  // Written by the receiving worker, read by the control plane too (show ports).
  std::atomic<bool> rx_failed_{false}, rx_detached_{false};
  int rx_error_ = 0;
  std::array<RxSlot, kRxDepth> rx_slots_{};  // buffers stay with a slot until a frame takes them
  std::array<uint8_t, kRxDepth> rx_free_{};  // slots without a read in flight
  unsigned rx_free_n_ = 0;
  bool rx_readable_ = true;     // read a batch at the next rx() without waiting for the poll
  bool rx_poll_armed_ = false;
  unsigned rx_batch_ = 4;
  static constexpr uint64_t kPollTag = ~0ull;
  static constexpr uint64_t kCancelTag = ~0ull - 1;
  // tx side
  io_uring tx_ring_{};
  bool tx_ring_ok_ = false;
  std::unique_ptr<TxSlot[]> tx_slots_;
  std::array<uint8_t, kTxDepth> tx_free_{};
  unsigned tx_free_n_ = 0;
};

}  // namespace tapswitch
