#include "ports/tap_port.h"

#include <sys/uio.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/error.h"

namespace tapswitch {

namespace {

// 64 KB buffers per port (about 64 KB of DPDK memory each): every read in flight, plus a burst and
// a half on its way out. When they are all out, the port stops reading (counted in rx_nombuf)
// and the kernel keeps the frames queued until some come back.
constexpr unsigned kBigInFlight = 48;
constexpr unsigned kBigBuffers = 1 + kBigInFlight;
constexpr unsigned kBigBuffersUring = TapUring::kRxDepth + kBigInFlight;

std::string big_pool_name() {
  static std::atomic<unsigned> next{0};
  return "tapbig" + std::to_string(next.fetch_add(1));
}

// Tells, once per process, that io_uring is not used and why.
void note_no_uring(const std::string& port, const std::string& why) {
  static std::atomic<bool> said{false};
  if (!said.exchange(true))
    spdlog::info("port {}: io_uring is not available ({}); raw-fd taps use readv/writev", port, why);
}

}  // namespace

std::unique_ptr<TapPort> TapPort::open(const PortSpec& spec, PktPool& pool) {
  TapHandle h = spec.kind == PortKind::tapfd ? adopt_tap_fd(spec.text, spec.fd, spec.offload)
                                              : open_tap(spec.text, spec.ifname, spec.offload);
  if (spec.mtu) set_tap_mtu(spec.text, h.fd.get(), spec.mtu);
  return std::unique_ptr<TapPort>(new TapPort(spec, std::move(h), pool));
}

TapPort::TapPort(const PortSpec& spec, TapHandle handle, PktPool& pool)
    : Port(spec.name.empty() ? handle.ifname : spec.name, spec.kind),
      handle_(std::move(handle)),
      big_pool_(std::make_unique<PktPool>(big_pool_name(), spec.io != TapIo::syscall ? kBigBuffersUring : kBigBuffers,
                                          UINT16_MAX)),
      rx_frames_(pool.get(), big_pool_->get(), handle_.offloads.vnet_hdr_len, rx_) {
  const TapOffloads& o = handle_.offloads;
  TxOffloads tx;
  tx.l4_csum = o.csum();
  tx.tso4 = o.tso4();
  tx.tso6 = o.tso6();
  tx.uso = o.uso();
  set_tx_offloads(tx);
  const unsigned mtu = ifctl_.mtu(handle_.fd.get());
  set_mtu(mtu ? mtu : kDefaultMtu);
  if (spec.io != TapIo::syscall) {  // automatic (not resolved by a config) means uring
    std::string why;
    uring_ = TapUring::create(handle_.fd.get(), &why);
    if (!uring_) note_no_uring(name(), why);
  }
}

TapPort::~TapPort() {
  uring_.reset();
  TapRxFrames::release(rx_slot_);
  if (big_pool_->in_use() != 0) {
    // Frames of this port still travel elsewhere: freeing the pool under them would corrupt
    // memory, so leave it to the process's end.
    spdlog::warn("port {}: {} of its 64 KB buffers are still in use; their pool is kept", name(),
                 big_pool_->in_use());
    (void)big_pool_.release();
  }
}

TapIo TapPort::rx_io() const noexcept {
  return uring_ && !uring_->rx_failed() ? TapIo::uring : TapIo::syscall;
}

uint16_t TapPort::rx_syscall(rte_mbuf** pkts, uint16_t n) noexcept {
  const int fd = handle_.fd.get();
  const uint32_t mtu = this->mtu();
  uint16_t got = 0;
  while (got < n) {
    if (!rx_frames_.arm(rx_slot_)) break;
    ssize_t r = ::readv(fd, rx_slot_.iov, static_cast<int>(rx_slot_.iovcnt));
    if (r <= 0) {
      if (r < 0 && errno == EBADFD) detached_ = true;  // the interface was deleted: one error, then quiet
      if (r < 0 && errno != EAGAIN && errno != EINTR) rx_frames_.count_error(errno);
      break;
    }
    rte_mbuf* m = rx_frames_.complete(rx_slot_, static_cast<size_t>(r), mtu);
    if (m) pkts[got++] = m;
  }
  return got;
}

uint16_t TapPort::rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  if (detached_) [[unlikely]]
    return 0;
  uint16_t got;
  if (uring_ && likely(!uring_->rx_failed())) {
    got = uring_->rx(rx_frames_, mtu(), pkts, n);
    if (unlikely(uring_->rx_detached())) detached_ = true;
    if (unlikely(uring_->rx_failed()))
      note_no_uring(name(), std::string("receive ring: ") + std::strerror(uring_->rx_error()));
  } else {
    got = rx_syscall(pkts, n);
  }
  if (got) {
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < got; ++i) bytes += pkts[i]->pkt_len;
    rx_.packets.add(got);
    rx_.bytes.add(bytes);
  }
  return got;
}

uint16_t TapPort::tx_syscall(rte_mbuf** pkts, uint16_t n) noexcept {
  const int fd = handle_.fd.get();
  const uint8_t hdr_len = handle_.offloads.vnet_hdr_len;
  uint16_t i = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  iovec iov[kMaxTxIov];
  for (; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const unsigned k = tx_iov(m, tx_hdr_, hdr_len, iov);
    if (unlikely(k == 0)) {  // a chain too long to write
      ++errors;
      tx_.last_error.set(EMSGSIZE);
      continue;
    }
    ssize_t r = ::writev(fd, iov, static_cast<int>(k));
    if (r < 0) {
      if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) break;  // caller keeps the rest
      ++errors;
      tx_.last_error.set(static_cast<uint64_t>(errno));
      continue;
    }
    ++sent;
    bytes += m->pkt_len;
  }
  rte_pktmbuf_free_bulk(pkts, i);
  tx_.packets.add(sent);
  tx_.bytes.add(bytes);
  if (errors) tx_.errors.add(errors);
  return i;
}

uint16_t TapPort::tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  if (uring_) return uring_->tx(pkts, n, handle_.offloads.vnet_hdr_len, tx_);
  return tx_syscall(pkts, n);
}

LinkState TapPort::link() const {
  LinkState s;
  s.gone = tap_ifname(handle_.fd.get()).empty();  // the tun file is detached once the interface is deleted
  s.up = !s.gone && ifctl_.link_up(handle_.fd.get());
  return s;
}

void TapPort::refresh() {
  const unsigned mtu = ifctl_.mtu(handle_.fd.get());
  if (mtu && mtu != this->mtu()) {
    spdlog::info("port {}: MTU {} (was {})", name(), mtu, this->mtu());
    set_mtu(mtu);
  }
}

PortStats TapPort::stats() const {
  PortStats s;
  s.rx_packets = rx_.packets.get();
  s.rx_bytes = rx_.bytes.get();
  s.tx_packets = tx_.packets.get();
  s.tx_bytes = tx_.bytes.get();
  s.rx_nombuf = rx_.nombuf.get();
  s.rx_oversize = rx_.oversize.get();
  s.rx_errors = rx_.errors.get();
  s.tx_errors = tx_.errors.get();
  return s;
}

void TapPort::describe(nlohmann::json& out) const {
  out["ifname"] = tap_ifname(handle_.fd.get());
  out["origin"] = to_string(handle_.origin);
  out["fd"] = handle_.fd.get();
  out["mtu"] = mtu();
  out["offloads"] = handle_.offloads.describe();
  out["vnet_hdr_len"] = handle_.offloads.vnet_hdr_len;
  out["rx_io"] = to_string(rx_io());
  out["tx_io"] = uring_ ? "uring" : "syscall";
  if (const uint64_t e = rx_.last_error.get()) out["rx_last_error"] = std::strerror(static_cast<int>(e));
  if (const uint64_t e = tx_.last_error.get()) out["tx_last_error"] = std::strerror(static_cast<int>(e));
}

}  // namespace tapswitch
