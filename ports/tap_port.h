// TapPort: a raw-fd TAP port. Each frame is read whole into a 64 KB buffer of the port's pool;
// one that fits an ordinary mbuf is copied into one of the switch's pool at once (one copy of
// at most 2 KB, measured cheaper than the iovec read that would avoid it; ports/tap_frames.h),
// larger ones stay in their 64 KB buffer. Frames are written straight out of mbufs, so no frame
// is copied between ports (the switch's frame_copies counter stays zero).
//
// Kinds: `tap:NAME` (created or attached by name) and `tapfd:N` (adopted fd); and `link:NAME`,
// an existing interface read and written through a packet socket with the same framing (a
// virtio-net header; ports/link_socket.h), always with io=syscall, one socket per queue (a
// fanout group). A burst goes out with one sendmmsg() (60 B frames 9% faster than a write()
// each, 1514 B 5%; TCP unchanged). Its frames come from the socket's receive ring
// (ports/link_ring.h; ring=off: recvmsg() for each), which also says when one did not fit
// (rx_oversize) and gives back the VLAN tag the kernel kept aside; frames the kernel dropped
// because the ring or the socket's queue was full are rx_missed.
//
// Offloads (offload=on, the default): the fd carries a virtio-net header and the kernel side
// hands over GSO frames of up to 64 KB with partial checksums, and takes them back, for the
// offloads TUNSETOFFLOAD accepted (ports/tun.h). The tap's gso_max_size is lowered to what one
// read brings whole (65,407 bytes), so the kernel cuts the rare larger GSO packet before the
// switch sees it.
//
// Link down: a write to a tap (or packet socket) whose interface is down fails (EIO, ENETDOWN)
// and the frame is counted as tx_link_down. After such a failure the queue drops, and counts the
// same way, what it is given for the next millisecond without a system call, then writes again:
// frames flooded toward a powered-off VM's tap or a downed interface cost one failed write per
// millisecond, not one per frame; a frame sent in the first millisecond after the link comes
// back up may be dropped.
//
// MTU: the kernel interface's MTU is the port's (ports/port.h); mtu=N sets it at open, and
// refresh() follows later changes. Longer frames from the kernel are counted (rx_oversize)
// and dropped.
//
// I/O: io=syscall does one read() and one write() (writev() for a chained or shared frame) per
// frame, and the worker parks an idle queue until its fd polls readable (rx_poll_costly);
// io=uring batches reads and writes through io_uring (ports/tap_uring.h), falling back to
// read/write where io_uring is refused. Which is faster depends on the cost of a system call;
// without io=, the port takes --tap-io, whose default (auto) measures it at start
// (ports/tap_io_choice.h).
//
// Queues: queues=N opens a multi-queue tap with one fd per queue (ports/tun.h); queue q's rx and
// tx both use fd q, and each queue has its own counters, receive buffers and io_uring rings.
// The kernel hashes each flow it sends to the tap onto one fd, so a flow stays on one rx queue.
//
// Concurrency: per queue, rx and tx are each used by one thread at a time (each queue's
// counters have a single writer per direction); rx and tx of one queue may be on two threads.
// With io_uring, a queue's rx must stay on one thread.
#pragma once

#include <memory>
#include <vector>

#include "dpdk/pkt_pool.h"
#include "ports/link_ring.h"
#include "ports/port.h"
#include "ports/port_spec.h"
#include "ports/tap_frames.h"
#include "ports/tap_uring.h"
#include "ports/tun.h"

namespace tapswitch {

class TapPort final : public Port {
 public:
  // Opens the port a `tap:`, `tapfd:` or `link:` spec describes (spec.io must be resolved: not
  // automatic). Throws Error with a clear reason.
  static std::unique_ptr<TapPort> open(const PortSpec& spec, PktPool& pool);

  ~TapPort() override;

  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;

  LinkState link() const override;
  PortStats stats() const override;
  void describe(nlohmann::json& out) const override;
  void refresh() override;
  KernelInterface kernel_interface() const override;
  uint16_t rx_queues() const noexcept override { return handle_.queues(); }
  uint16_t tx_queues() const noexcept override { return handle_.queues(); }
  // The queue's fd itself polls readable when a frame waits (io_uring's poll waits on it too,
  // and reads run only when the worker asks); nothing to arm.
  int rx_notify_fd(uint16_t q) const noexcept override { return q_[q]->fd; }
  bool rx_notify_arm(uint16_t q) noexcept override { return !q_[q]->detached; }
  // Reading an empty queue costs a system call, unless io_uring says it is empty or it is a
  // packet socket's ring.
  bool rx_poll_costly(uint16_t q) const noexcept override {
    if (q_[q]->ring) return false;  // an empty ring is a memory read
    return !q_[q]->uring || q_[q]->uring->rx_failed();
  }
  // A tun fd in error is detached for good; a packet socket's pending error is read here, once.
  bool rx_notify_error(uint16_t q) noexcept override;
  // Ends the queue's io_uring poll, which holds the tun file (ports/tap_uring.h).
  void rx_release(uint16_t q) noexcept override {
    if (q_[q]->uring) q_[q]->uring->rx_release();
  }

  int fd() const noexcept { return handle_.fd.get(); }  // queue 0's
  TapOrigin origin() const noexcept { return handle_.origin; }
  const TapOffloads& offloads() const noexcept { return handle_.offloads; }
  // The I/O path in use now for receiving: uring (on every queue) or syscall.
  TapIo rx_io() const noexcept;

 private:
  // One queue: its fd, and what its rx thread and its tx thread each touch.
  struct Queue {
    Queue(int fd, rte_mempool* pool, rte_mempool* big_pool, uint8_t vnet_hdr_len)
        : fd(fd), frames(pool, big_pool, vnet_hdr_len, rx) {}
    int fd;
    // rx side: touched only by the receiving thread.
    alignas(64) TapRxCounters rx;
    bool detached = false;  // a read said EBADFD: the interface is gone
    TapRxFrames frames;
    RxSlot slot;  // the syscall path's one read
    // tx side
    alignas(64) TapTxCounters tx;
    uint64_t tx_down_until = 0;  // TSC time until which frames are dropped as tx_link_down unwritten
    VnetHdrBuf tx_hdr;
    // Both paths, when io=uring and the kernel allows it.
    std::unique_ptr<TapUring> uring;
    // link: the socket's receive ring (ports/link_ring.h).
    std::unique_ptr<LinkRxRing> ring;
  };

  // A queue whose interface refused a write because it is down drops what it is given for the
  // next 1/kTxDownHoldPerSecond s (counted as tx_link_down) without trying, then tries again.
  static constexpr uint64_t kTxDownHoldPerSecond = 1000;

  TapPort(const PortSpec& spec, TapHandle handle, PktPool& pool);
  uint16_t rx_syscall(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept;
  bool is_link() const noexcept { return handle_.origin == TapOrigin::link; }
  unsigned kernel_mtu();  // the interface's MTU now; 0 if unknown
  uint16_t tx_syscall(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept;
  // link: one sendmmsg() for up to kTxBatch frames (a packet socket takes several at once; a
  // tun fd does not).
  static constexpr unsigned kTxBatch = 32;
  uint16_t tx_sendmmsg(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept;

  TapHandle handle_;
  mutable TapIfControl ifctl_;         // control thread only
  std::unique_ptr<PktPool> big_pool_;  // 64 KB buffers for what exceeds one ordinary mbuf
  std::vector<std::unique_ptr<Queue>> q_;
  mutable uint64_t link_missed_ = 0;  // link: the socket's drops so far (control thread)
  uint32_t gso_restore_ = 0;  // the gso_max_size an attached or adopted tap had (0: none to restore)
};

}  // namespace tapswitch
