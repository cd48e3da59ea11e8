#include "ports/tap_uring.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

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

std::unique_ptr<TapUring> TapUring::create(int fd, std::string* why) {
  std::unique_ptr<TapUring> u(new TapUring(fd));
  io_uring_params p{};
  // Bound to the receiving thread, which enables the ring on its first poll.
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_R_DISABLED;
  int rc = io_uring_queue_init_params(kRxDepth, &u->rx_ring_, &p);
  if (rc < 0) {
    *why = std::string("io_uring_setup (receive ring, DEFER_TASKRUN): ") + std::strerror(-rc);
    return nullptr;
  }
  u->rx_ring_ok_ = true;
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

void TapUring::arm(TapRxFrames& frames, unsigned slot) noexcept {
  RxSlot& s = rx_slots_[slot];
  if (!frames.arm(s)) {
    rx_idle_[rx_idle_n_++] = static_cast<uint8_t>(slot);
    return;
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&rx_ring_);  // never null: one sqe per slot at most
  io_uring_prep_readv(sqe, fd_, s.iov, s.iovcnt, 0);
  io_uring_sqe_set_data64(sqe, slot);
}

bool TapUring::start_rx(TapRxFrames& frames) noexcept {
  rx_started_ = true;
  if (enable_rings(rx_ring_) != 0) {
    fail_rx(errno);
    return false;
  }
  for (unsigned i = 0; i < kRxDepth; ++i) arm(frames, i);
  return true;
}

uint16_t TapUring::rx(TapRxFrames& frames, uint32_t mtu, rte_mbuf** pkts, uint16_t n) noexcept {
  if (unlikely(!rx_started_) && !start_rx(frames)) return 0;
  if (unlikely(rx_idle_n_)) {  // slots left without buffers when the pool was empty
    unsigned idle = rx_idle_n_;
    rx_idle_n_ = 0;
    uint8_t retry[kRxDepth];
    std::memcpy(retry, rx_idle_.data(), idle);
    for (unsigned i = 0; i < idle; ++i) arm(frames, retry[i]);
  }
  if (io_uring_cq_ready(&rx_ring_) == 0) {
    if (io_uring_sq_ready(&rx_ring_) == 0 && !taskrun_pending(rx_ring_)) return 0;  // idle: no syscall
    int rc = io_uring_submit_and_get_events(&rx_ring_);
    if (unlikely(rc < 0) && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fail_rx(-rc);  // -EEXIST: another thread polls this port now
      return 0;
    }
  }
  uint16_t got = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  unsigned head;
  io_uring_for_each_cqe(&rx_ring_, head, cqe) {
    if (got == n) break;
    ++seen;
    const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    const int res = cqe->res;
    if (likely(res > 0)) {
      rte_mbuf* m = frames.complete(rx_slots_[slot], static_cast<size_t>(res), mtu);
      if (m) pkts[got++] = m;
    } else if (res == -ECANCELED) {
      continue;  // only at teardown
    } else if (res == -EBADFD) {
      frames.count_error(-res);
      rx_detached_ = true;
      continue;
    } else if (res != -EAGAIN && res != -EINTR) {
      frames.count_error(-res);
    }
    arm(frames, slot);
  }
  io_uring_cq_advance(&rx_ring_, seen);
  return got;
}

void TapUring::reap_tx(TapTxCounters& c) noexcept {
  io_uring_cqe* cqe;
  unsigned head, seen = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  io_uring_for_each_cqe(&tx_ring_, head, cqe) {
    ++seen;
    const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    TxSlot& s = tx_slots_[slot];
    if (likely(cqe->res > 0)) {
      ++sent;
      bytes += s.m->pkt_len;
    } else {
      ++errors;
      c.last_error.set(static_cast<uint64_t>(-cqe->res));
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
  if (errors) c.errors.add(errors);
}

uint16_t TapUring::tx(rte_mbuf** pkts, uint16_t n, uint8_t hdr_len, TapTxCounters& c) noexcept {
  if (tx_free_n_ < n && io_uring_cq_ready(&tx_ring_)) reap_tx(c);
  uint16_t taken = 0;
  unsigned queued = 0;
  for (; taken < n && tx_free_n_; ++taken) {
    rte_mbuf* m = pkts[taken];
    const unsigned slot = tx_free_[tx_free_n_ - 1];
    TxSlot& s = tx_slots_[slot];
    const unsigned k = tx_iov(m, s.hdr, hdr_len, s.iov);
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
    io_uring_prep_writev(sqe, fd_, s.iov, k, 0);
    io_uring_sqe_set_data64(sqe, slot);
    ++queued;
  }
  if (queued) io_uring_submit(&tx_ring_);
  reap_tx(c);
  return taken;
}

}  // namespace tapswitch
