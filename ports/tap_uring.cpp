#include "ports/tap_uring.h"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tapswitch {

namespace {

// liburing 2.3 declares io_uring_enable_rings() but does not export it.
int enable_rings(const io_uring& ring) {
  return static_cast<int>(::syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0));
}

bool taskrun_pending(const io_uring& ring) noexcept {
  return IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN;
}

}  // namespace

// The receive ring: bound to the receiving thread, which enables it on its first poll.
int TapUring::init_rx_ring() noexcept {
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_R_DISABLED;
  p.flags |= IORING_SETUP_CQSIZE;
  p.cq_entries = 4 * kRxDepth;
  const int rc = io_uring_queue_init_params(kRxDepth + 1, &rx_ring_, &p);
  rx_ring_ok_ = rc >= 0;
  return rc;
}

std::unique_ptr<TapUring> TapUring::create(int fd, std::string* why) {
  std::unique_ptr<TapUring> u(new TapUring(fd));
  int rc = u->init_rx_ring();
  if (rc < 0) {
    *why = std::string("io_uring_setup (receive ring, DEFER_TASKRUN): ") + std::strerror(-rc);
    return nullptr;
  }
  io_uring_params tp{};
  rc = io_uring_queue_init_params(kTxDepth, &u->tx_ring_, &tp);
  if (rc < 0) {
    *why = std::string("io_uring_setup (transmit ring): ") + std::strerror(-rc);
    return nullptr;
  }
  u->tx_ring_ok_ = true;
  u->tx_slots_.reset(new TxSlot[kTxDepth]);
  for (unsigned i = 0; i < kTxDepth; ++i) u->tx_free_[i] = static_cast<uint8_t>(i);
  u->tx_free_n_ = kTxDepth;
  return u;
}

TapUring::~TapUring() {
  if (rx_ring_ok_) io_uring_queue_exit(&rx_ring_);
  for (auto& s : rx_slots_) TapRxFrames::release(s);
  if (tx_ring_ok_) {
    TapTxCounters ignored;
    reap_tx(ignored);
    io_uring_queue_exit(&tx_ring_);
  }
  if (tx_slots_) {
    for (unsigned i = 0; i < kTxDepth; ++i)
      if (tx_slots_[i].m) rte_pktmbuf_free(tx_slots_[i].m);
  }
}

void TapUring::fail_rx(int err) noexcept {
  rx_failed_ = true;
  rx_error_ = err;
}

bool TapUring::start_rx() noexcept {
  rx_started_ = true;
  if (rx_rebind_) {  // released by the thread it was bound to: a ring of this thread's own
    rx_rebind_ = false;
    io_uring_queue_exit(&rx_ring_);
    const int rc = init_rx_ring();
    if (rc < 0) {
      fail_rx(-rc);
      return false;
    }
  }
  if (enable_rings(rx_ring_) != 0) {
    fail_rx(errno);
    return false;
  }
  for (unsigned i = 0; i < kRxDepth; ++i) rx_free_[i] = static_cast<uint8_t>(kRxDepth - 1 - i);
  rx_free_n_ = kRxDepth;
  return true;
}

// Queues up to k reads that fail at once (-EAGAIN) instead of waiting; returns how many.
unsigned TapUring::queue_reads(TapRxFrames& frames, unsigned k) noexcept {
  unsigned q = 0;
  while (q < k && rx_free_n_) {
    const unsigned slot = rx_free_[rx_free_n_ - 1];
    RxSlot& s = rx_slots_[slot];
    if (!frames.arm(s)) break;  // pool empty: counted; the kernel keeps the frames
    io_uring_sqe* sqe = io_uring_get_sqe(&rx_ring_);
    if (!sqe) break;
    --rx_free_n_;
    io_uring_prep_read(sqe, fd_, frames.read_at(s), frames.read_len(), 0);
    sqe->rw_flags = RWF_NOWAIT;
    io_uring_sqe_set_data64(sqe, slot);
    ++q;
  }
  return q;
}

bool TapUring::note_control_cqe(const io_uring_cqe* cqe) noexcept {
  const uint64_t tag = io_uring_cqe_get_data64(cqe);
  if (tag == kPollTag) {  // the fd became readable, or the poll ended
    if (!(cqe->flags & IORING_CQE_F_MORE)) rx_poll_armed_ = false;
    return true;
  }
  return tag == kCancelTag;
}

void TapUring::rx_release() noexcept {
  if (!rx_started_ || rx_failed_) return;
  rx_quiesce();
  // The ring stays bound to this thread (SINGLE_ISSUER): whichever thread receives next,
  // perhaps another worker after a re-plan, gets a new one.
  rx_started_ = false;
  rx_rebind_ = true;
  rx_readable_ = true;
}

void TapUring::rx_quiesce() noexcept {
  if (!rx_started_ || rx_failed_ || !rx_poll_armed_) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&rx_ring_);
  if (!sqe) return;  // cannot happen: rx() leaves the submission queue empty
  io_uring_prep_cancel64(sqe, kPollTag, 0);
  io_uring_sqe_set_data64(sqe, kCancelTag);
  // The cancel and the poll's final completion (without F_MORE) both arrive within a few
  // io_uring_enter calls; the bound only guards against a kernel that would never end it.
  for (int round = 0; rx_poll_armed_ && round < 100; ++round) {
    __kernel_timespec ts{0, 1'000'000};
    io_uring_cqe* first = nullptr;
    int rc = io_uring_submit_and_wait_timeout(&rx_ring_, &first, 1, &ts, nullptr);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) return;
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&rx_ring_, head, cqe) {
      ++seen;
      // A read's completion cannot be pending here (reads finish within rx()); if one were, its
      // slot simply becomes free again and keeps its buffers.
      if (!note_control_cqe(cqe)) rx_free_[rx_free_n_++] = static_cast<uint8_t>(io_uring_cqe_get_data64(cqe));
    }
    io_uring_cq_advance(&rx_ring_, seen);
  }
}

uint16_t TapUring::rx(TapRxFrames& frames, uint32_t mtu, rte_mbuf** pkts, uint16_t n) noexcept {
  if (unlikely(!rx_started_) && !start_rx()) return 0;
  const bool event = io_uring_cq_ready(&rx_ring_) || taskrun_pending(rx_ring_);
  if (!rx_readable_ && !event && rx_poll_armed_) return 0;  // idle: no syscall
  // Something may be queued: read a batch (a pending event is most likely the poll saying so).
  const unsigned queued = queue_reads(frames, std::min<unsigned>(rx_batch_, n));
  if (!rx_poll_armed_) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&rx_ring_)) {
      io_uring_prep_poll_multishot(sqe, fd_, POLLIN);
      io_uring_sqe_set_data64(sqe, kPollTag);
      rx_poll_armed_ = true;
    }
  }
  if (io_uring_sq_ready(&rx_ring_) || event) {
    int rc = io_uring_submit_and_get_events(&rx_ring_);
    if (unlikely(rc < 0) && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fail_rx(-rc);  // -EEXIST: another thread polls this port now
      return 0;
    }
  }
  uint16_t got = 0;
  unsigned seen = 0, ok = 0;
  bool drained = false, woken = false;
  io_uring_cqe* cqe;
  unsigned head;
  io_uring_for_each_cqe(&rx_ring_, head, cqe) {
    ++seen;
    if (note_control_cqe(cqe)) {  // the poll said readable (or ended: it is armed again)
      woken = true;
      continue;
    }
    const int res = cqe->res;
    const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    rx_free_[rx_free_n_++] = static_cast<uint8_t>(slot);
    if (likely(res > 0)) {
      ++ok;
      if (rte_mbuf* m = frames.complete(rx_slots_[slot], static_cast<size_t>(res), mtu)) pkts[got++] = m;
    } else if (res == -EAGAIN) {
      drained = true;
    } else if (res == -EBADFD) {
      frames.count_error(-res);
      rx_detached_ = true;
    } else if (res != -ECANCELED && res != -EINTR) {
      frames.count_error(-res);
    }
  }
  io_uring_cq_advance(&rx_ring_, seen);
  // Read on while whole batches come back full; after a short one, wait for the poll.
  if (queued) {
    rx_readable_ = !drained;
    rx_batch_ = drained ? std::max(2u, ok + 1) : std::min(kRxDepth, 2 * rx_batch_);
  }
  if (woken) rx_readable_ = true;
  return got;
}

void TapUring::reap_tx(TapTxCounters& c) noexcept {
  io_uring_cqe* cqe;
  unsigned head, seen = 0;
  uint64_t sent = 0, bytes = 0;
  io_uring_for_each_cqe(&tx_ring_, head, cqe) {
    ++seen;
    const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    TxSlot& s = tx_slots_[slot];
    if (likely(cqe->res > 0)) {
      ++sent;
      bytes += s.m->pkt_len;
    } else {
      c.count_failed(cqe->res < 0 ? -cqe->res : EIO);
    }
    rte_pktmbuf_free(s.m);
    s.m = nullptr;
    tx_free_[tx_free_n_++] = static_cast<uint8_t>(slot);
  }
  io_uring_cq_advance(&tx_ring_, seen);
  if (sent) {
    c.packets.add(sent);
    c.bytes.add(bytes);
  }
}

uint16_t TapUring::tx(rte_mbuf** pkts, uint16_t n, uint8_t hdr_len, TapTxCounters& c) noexcept {
  if (tx_free_n_ < n && io_uring_cq_ready(&tx_ring_)) reap_tx(c);
  uint16_t taken = 0;
  unsigned queued = 0;
  for (; taken < n && tx_free_n_; ++taken) {
    rte_mbuf* m = pkts[taken];
    const unsigned slot = tx_free_[tx_free_n_ - 1];
    TxSlot& s = tx_slots_[slot];
    uint8_t* one = header_in_headroom(m, hdr_len);  // one buffer: a plain write
    const unsigned k = one ? 1 : tx_iov(m, s.hdr, hdr_len, s.iov);
    if (unlikely(k == 0)) {  // a chain too long to write
      c.errors.add();
      c.last_error.set(EMSGSIZE);
      rte_pktmbuf_free(m);
      continue;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&tx_ring_);
    if (unlikely(!sqe)) break;
    --tx_free_n_;
    s.m = m;
    if (one)
      io_uring_prep_write(sqe, fd_, one, hdr_len + m->data_len, 0);
    else
      io_uring_prep_writev(sqe, fd_, s.iov, k, 0);
    io_uring_sqe_set_data64(sqe, slot);
    ++queued;
  }
  if (queued) io_uring_submit(&tx_ring_);
  reap_tx(c);
  return taken;
}

}  // namespace tapswitch
