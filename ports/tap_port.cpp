#include "ports/tap_port.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/error.h"
#include "base/netns.h"
#include "ports/link_socket.h"

namespace tapswitch {

namespace {

// 64 KB buffers per queue (about 64 KB of DPDK memory each): every read in flight, plus a burst
// and a half on its way out. When they are all out, the port stops reading (counted in
// rx_paused, not a drop) and the kernel keeps the frames queued until some come back.
constexpr unsigned kBigInFlight = 48;
unsigned big_buffers(uint16_t queues, bool uring) {
  return queues * ((uring ? TapUring::kRxDepth : 1) + kBigInFlight);
}

// A tap's gso_max_size as the kernel makes it (GSO_LEGACY_MAX_SIZE).
constexpr uint32_t kKernelGsoMaxSize = 65536;

// Tells, once per process, that io_uring is not used and why.
void note_no_uring(const std::string& port, const std::string& why) {
  static std::atomic<bool> said{false};
  if (!said.exchange(true))
    spdlog::info("port {}: io_uring is not available ({}); raw-fd taps use read/write", port, why);
}

}  // namespace

std::unique_ptr<TapPort> TapPort::open(const PortSpec& spec, PktPool& pool) {
  TapHandle h = spec.kind == PortKind::link    ? open_link(spec.text, spec.ifname, spec.queues)
                 : spec.kind == PortKind::tapfd ? adopt_tap_fd(spec.text, spec.fd, spec.offload, spec.queues)
                                                : open_tap(spec.text, spec.ifname, spec.offload, spec.queues);
  if (spec.mtu) set_tap_mtu(spec.text, h.fd.get(), spec.mtu);
  std::unique_ptr<TapPort> port(new TapPort(spec, std::move(h), pool));
  // A read brings at most max_rx_frame() bytes whole (ports/tap_frames.h): have the kernel cut
  // longer GSO packets (only UDP GSO near the 64 KB IP limit gets there) before they reach the
  // fd, instead of dropping them here.
  // (A link port's GSO packets are sized by whoever sends them: recvmsg() says when one is too long.)
  if (port->handle_.offloads.tun_f != 0 && !port->is_link()) {
    const uint32_t cap = port->q_[0]->frames.max_rx_frame() + 1;
    // An interface that outlives the switch (attached or adopted) gets its own value back.
    uint32_t before = 0;
    const bool outlives = port->handle_.origin != TapOrigin::created;
    const bool known = outlives && get_gso_max_size(port->handle_.fd.get(), before) == 0;
    if (int e = set_gso_max_size(port->handle_.fd.get(), cap))
      spdlog::info("port {}: cannot cap the kernel's GSO packets at {} bytes ({}); longer ones are dropped "
                   "and counted as rx_oversize",
                   port->name(), cap, std::strerror(e));
    else if (known && before != cap)
      port->gso_restore_ = before;
    else if (known)  // our own cap, left by a switch that was killed: give the kernel's default back
      port->gso_restore_ = kKernelGsoMaxSize;
  }
  return port;
}

TapPort::TapPort(const PortSpec& spec, TapHandle handle, PktPool& pool)
    : Port(spec.name.empty() ? handle.ifname : spec.name, spec.kind),
      handle_(std::move(handle)),
      // No per-lcore cache: 64 KB buffers change hands once per large frame, and a cache would
      // reserve about 1 MB per port.
      big_pool_(std::make_unique<PktPool>("tapbig", big_buffers(handle_.queues(), spec.io == TapIo::uring),
                                          UINT16_MAX, 0)) {
  for (uint16_t q = 0; q < handle_.queues(); ++q)
    q_.push_back(std::make_unique<Queue>(handle_.queue_fd(q), pool.get(), big_pool_->get(), handle_.offloads.vnet_hdr_len));
  const TapOffloads& o = handle_.offloads;
  TxOffloads tx;
  tx.l4_csum = o.csum();
  tx.tso4 = o.tso4();
  tx.tso6 = o.tso6();
  tx.uso = o.uso();
  set_tx_offloads(tx);
  const unsigned mtu = kernel_mtu();
  set_mtu(mtu ? mtu : kDefaultMtu);
  if (is_link() && spec.ring)
    for (auto& q : q_) q->ring = LinkRxRing::create(spec.text, q->fd);
  if (spec.io == TapIo::uring) {  // (automatic, left unresolved by a caller, means read/write)
    std::string why;
    for (auto& q : q_)
      if (!(q->uring = TapUring::create(q->fd, &why))) break;
    if (!why.empty()) {  // every queue of a port takes the same path
      note_no_uring(name(), why);
      for (auto& q : q_) q->uring.reset();
    }
  }
}

TapPort::~TapPort() {
  for (auto& q : q_) {
    q->uring.reset();
    TapRxFrames::release(q->slot);
  }
  if (gso_restore_) {
    // (ENODEV: the interface is gone, or the fd detached: nothing to give back.)
    const int e = set_gso_max_size(handle_.fd.get(), gso_restore_);
    if (e && e != ENODEV)
      spdlog::info("port {}: cannot give the interface its gso_max_size of {} back ({})", name(), gso_restore_,
                   std::strerror(e));
  }
  if (big_pool_->in_use() != 0) {
    // Frames of this port still travel elsewhere: freeing the pool under them would corrupt
    // memory, so leave it to the process's end.
    spdlog::warn("port {}: {} of its 64 KB buffers are still in use; their pool is kept", name(),
                 big_pool_->in_use());
    (void)big_pool_.release();
  }
}

TapIo TapPort::rx_io() const noexcept {
  for (const auto& q : q_)
    if (!q->uring || q->uring->rx_failed()) return TapIo::syscall;
  return TapIo::uring;
}

unsigned TapPort::kernel_mtu() {
  return is_link() ? link_mtu(handle_.ifindex) : ifctl_.mtu(handle_.fd.get());
}

uint16_t TapPort::rx_syscall(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept {
  const uint32_t mtu = this->mtu();
  const bool link = is_link();
  uint16_t got = 0;
  while (got < n) {
    if (!q.frames.arm(q.slot)) break;
    ssize_t r;
    uint16_t tpid = 0, tci = 0;
    if (link)
      r = q.ring ? q.ring->recv(q.frames.read_at(q.slot), q.frames.read_len(), tpid, tci)
                 : recv_link_frame(q.fd, q.frames.read_at(q.slot), q.frames.read_len(), tpid, tci);
    else
      r = ::read(q.fd, q.frames.read_at(q.slot), q.frames.read_len());
    if (r <= 0) {
      // The interface was deleted (a tap's EBADFD, a packet socket's ENODEV): one error, then quiet.
      if (r < 0 && (errno == EBADFD || (link && errno == ENODEV))) q.detached = true;
      // (A packet socket says ENETDOWN once when its interface goes down: not an error.)
      if (r < 0 && errno != EAGAIN && errno != EINTR && !(link && errno == ENETDOWN)) q.frames.count_error(errno);
      break;
    }
    if (tpid) [[unlikely]]
      r = static_cast<ssize_t>(q.frames.insert_vlan(q.slot, static_cast<size_t>(r), tpid, tci));
    rte_mbuf* m = q.frames.complete(q.slot, static_cast<size_t>(r), mtu);
    if (m) pkts[got++] = m;
  }
  return got;
}

uint16_t TapPort::rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  Queue& q = *q_[queue];
  if (q.detached) [[unlikely]]
    return 0;
  uint16_t got;
  if (q.uring && likely(!q.uring->rx_failed())) {
    got = q.uring->rx(q.frames, mtu(), pkts, n);
    if (unlikely(q.uring->rx_detached())) q.detached = true;
    if (unlikely(q.uring->rx_failed()))
      note_no_uring(name(), std::string("receive ring: ") + std::strerror(q.uring->rx_error()));
  } else {
    got = rx_syscall(q, pkts, n);
  }
  if (got) {
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < got; ++i) bytes += pkts[i]->pkt_len;
    q.rx.packets.add(got);
    q.rx.bytes.add(bytes);
  }
  return got;
}

uint16_t TapPort::tx_syscall(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept {
  const int fd = q.fd;
  const uint8_t hdr_len = handle_.offloads.vnet_hdr_len;
  uint16_t i = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  iovec iov[kMaxTxIov];
  for (; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ssize_t r;
    if (uint8_t* p = header_in_headroom(m, hdr_len)) {  // one buffer: write(), no iovec to import
      r = ::write(fd, p, hdr_len + m->data_len);
    } else {
      const unsigned k = tx_iov(m, q.tx_hdr, hdr_len, iov);
      if (unlikely(k == 0)) {  // a chain too long to write
        ++errors;
        q.tx.last_error.set(EMSGSIZE);
        continue;
      }
      r = ::writev(fd, iov, static_cast<int>(k));
    }
    if (r < 0) {
      if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) break;  // caller keeps the rest
      q.tx.count_failed(errno);
      continue;
    }
    ++sent;
    bytes += m->pkt_len;
  }
  rte_pktmbuf_free_bulk(pkts, i);
  q.tx.packets.add(sent);
  q.tx.bytes.add(bytes);
  if (errors) q.tx.errors.add(errors);
  return i;
}

uint16_t TapPort::tx_sendmmsg(Queue& q, rte_mbuf** pkts, uint16_t n) noexcept {
  const uint8_t hdr_len = handle_.offloads.vnet_hdr_len;
  mmsghdr msgs[kTxBatch];
  VnetHdrBuf hdrs[kTxBatch];
  iovec iov[4 * kMaxTxIov];
  uint64_t sent = 0, bytes = 0, errors = 0;
  uint16_t done = 0;  // frames taken: sent, or dropped and counted
  bool stop = false;  // the socket said try later (the caller keeps the rest), or the link is down
  // A packet socket keeps the ENETDOWN of its interface going down (sk_err) until a receive, a
  // send or SO_ERROR reads it; the receive ring never does. The first send after the interface
  // came back up would take it for its own: one more try tells a stale error from a down link.
  bool retried_down = false;
  while (done < n && !stop) {
    // Messages for pkts[done..end): as many as msgs and iov hold. msgs[i] is pkts[done + i].
    unsigned k = 0, used = 0;
    uint16_t end = done;
    while (end < n && k < kTxBatch) {
      rte_mbuf* m = pkts[end];
      iovec* v = iov + used;
      unsigned c;
      if (uint8_t* p = header_in_headroom(m, hdr_len)) {
        *v = {p, static_cast<size_t>(hdr_len + m->data_len)};
        c = 1;
      } else {
        if (used + kMaxTxIov > std::size(iov)) break;  // send these first
        c = tx_iov(m, hdrs[k], hdr_len, v);
        if (unlikely(c == 0)) {  // a chain too long to send: dropped once those before it are sent
          if (k) break;
          ++errors;
          q.tx.last_error.set(EMSGSIZE);
          ++end;
          ++done;
          continue;
        }
      }
      msgs[k].msg_hdr = msghdr{};
      msgs[k].msg_hdr.msg_iov = v;
      msgs[k].msg_hdr.msg_iovlen = c;
      used += c;
      ++k;
      ++end;
    }
    for (unsigned i = 0; i < k && !stop;) {
      const int r = ::sendmmsg(q.fd, msgs + i, k - i, MSG_DONTWAIT);
      if (r >= 0) {
        for (int j = 0; j < r; ++j) bytes += pkts[done + j]->pkt_len;
        sent += static_cast<unsigned>(r);
        i += static_cast<unsigned>(r);
        done = static_cast<uint16_t>(done + r);
      } else if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
        stop = true;
      } else if (errno == ENETDOWN && !retried_down) {
        retried_down = true;
      } else if (errno == ENETDOWN || errno == EIO) {  // every frame would meet it: drop them all
        q.tx.count_failed(errno, n - done);
        done = n;
        stop = true;
      } else {  // message i is refused; the rest are tried again
        q.tx.count_failed(errno);
        ++i;
        ++done;
      }
    }
  }
  rte_pktmbuf_free_bulk(pkts, done);
  q.tx.packets.add(sent);
  q.tx.bytes.add(bytes);
  if (errors) q.tx.errors.add(errors);
  return done;
}

uint16_t TapPort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  Queue& q = *q_[queue];
  if (q.tx_down_until) [[unlikely]] {
    if (rte_rdtsc() < q.tx_down_until) {  // the interface was down a moment ago: no system call
      q.tx.link_down.add(n);
      rte_pktmbuf_free_bulk(pkts, n);
      return n;
    }
    q.tx_down_until = 0;  // try again
  }
  const uint64_t down = q.tx.link_down.get();
  const uint16_t took = q.uring     ? q.uring->tx(pkts, n, handle_.offloads.vnet_hdr_len, q.tx)
                        : is_link() ? tx_sendmmsg(q, pkts, n)
                                    : tx_syscall(q, pkts, n);
  if (q.tx.link_down.get() != down) [[unlikely]]
    q.tx_down_until = rte_rdtsc() + rte_get_tsc_hz() / kTxDownHoldPerSecond;
  return took;
}

bool TapPort::rx_notify_error(uint16_t q) noexcept {
  if (!is_link()) return true;
  clear_socket_error(q_[q]->fd);
  return false;
}

LinkState TapPort::link() const {
  LinkState s;
  if (is_link()) {
    const std::string ifname = link_name(handle_.ifindex);
    s.gone = ifname.empty();
    s.up = !s.gone && link_up(handle_.ifindex);
    if (!s.gone) s.master = link_master(ifname);
    return s;
  }
  s.gone = tap_ifname(handle_.fd.get()).empty();  // the tun file is detached once the interface is deleted
  s.up = !s.gone && ifctl_.link_up(handle_.fd.get());
  return s;
}

KernelInterface TapPort::kernel_interface() const {
  if (is_link()) return {own_netns(), link_name(handle_.ifindex)};  // opened in this namespace
  return {tap_netns(handle_.fd.get()), tap_ifname(handle_.fd.get())};
}

void TapPort::refresh() {
  const unsigned mtu = kernel_mtu();
  if (mtu && mtu != this->mtu()) {
    spdlog::info("port {}: MTU {} (was {})", name(), mtu, this->mtu());
    set_mtu(mtu);
  }
}

PortStats TapPort::stats() const {
  PortStats s;
  for (const auto& q : q_) {
    s.rx_packets += q->rx.packets.get();
    s.rx_bytes += q->rx.bytes.get();
    s.tx_packets += q->tx.packets.get();
    s.tx_bytes += q->tx.bytes.get();
    s.rx_paused += q->rx.paused.get();
    s.rx_oversize += q->rx.oversize.get();
    s.rx_errors += q->rx.errors.get();
    s.tx_errors += q->tx.errors.get();
    s.tx_link_down += q->tx.link_down.get();
  }
  if (is_link()) {
    for (uint16_t q = 0; q < handle_.queues(); ++q) link_missed_ += link_drops_since(handle_.queue_fd(q));
    s.rx_missed = link_missed_;
  }
  return s;
}

void TapPort::describe(nlohmann::json& out) const {
  out["ifname"] = is_link() ? link_name(handle_.ifindex) : tap_ifname(handle_.fd.get());
  if (is_link()) {
    out["ifindex"] = handle_.ifindex;
    out["rx_ring"] = q_[0]->ring != nullptr;  // ports/link_ring.h
  }
  out["origin"] = to_string(handle_.origin);
  out["fd"] = handle_.fd.get();
  out["mtu"] = mtu();
  out["offloads"] = handle_.offloads.describe();
  out["vnet_hdr_len"] = handle_.offloads.vnet_hdr_len;
  out["rx_io"] = to_string(rx_io());
  out["tx_io"] = q_[0]->uring ? "uring" : "syscall";
  out["multi_queue"] = handle_.multi_queue;
  for (const auto& q : q_) {
    if (const uint64_t e = q->rx.last_error.get()) out["rx_last_error"] = std::strerror(static_cast<int>(e));
    if (const uint64_t e = q->tx.last_error.get()) out["tx_last_error"] = std::strerror(static_cast<int>(e));
  }
  if (q_.size() > 1) {  // how the kernel spread the flows, and how the workers sent
    auto& per = out["queues"] = nlohmann::json::array();
    for (const auto& q : q_)
      per.push_back({{"fd", q->fd}, {"rx_packets", q->rx.packets.get()}, {"tx_packets", q->tx.packets.get()}});
  }
}

}  // namespace tapswitch
