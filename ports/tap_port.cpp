#include "ports/tap_port.h"

#include <sys/uio.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <cerrno>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/error.h"

namespace tapswitch {

namespace {
// Anything beyond an mbuf's room lands here, so an oversize frame is seen whole and dropped,
// never truncated. One per worker thread.
constexpr size_t kMaxFrame = 65536 + 64;
thread_local uint8_t t_overflow[kMaxFrame];
constexpr unsigned kMaxSegs = 64;
}  // namespace

std::unique_ptr<TapPort> TapPort::open(const PortSpec& spec, PktPool& pool) {
  TapHandle h = spec.kind == PortKind::tapfd ? adopt_tap_fd(spec.text, spec.fd)
                                              : open_tap(spec.text, spec.ifname);
  std::string name = spec.name.empty() ? h.ifname : spec.name;
  return std::unique_ptr<TapPort>(new TapPort(std::move(name), spec.kind, std::move(h), pool));
}

TapPort::TapPort(std::string name, PortKind kind, TapHandle handle, PktPool& pool)
    : Port(std::move(name), kind),
      handle_(std::move(handle)),
      pool_(pool),
      rx_room_(static_cast<uint16_t>(pool.data_room() - RTE_PKTMBUF_HEADROOM)) {}

TapPort::~TapPort() {
  if (stash_n_) rte_pktmbuf_free_bulk(stash_.data(), stash_n_);
}

bool TapPort::refill() noexcept {
  constexpr unsigned kRefill = 32;
  if (rte_pktmbuf_alloc_bulk(pool_.get(), stash_.data() + stash_n_, kRefill) != 0) return false;
  stash_n_ += kRefill;
  return true;
}

uint16_t TapPort::rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  const int fd = handle_.fd.get();
  uint16_t got = 0;
  uint64_t bytes = 0;
  if (detached_) [[unlikely]]
    return 0;
  while (got < n) {
    if (stash_n_ == 0 && !refill()) {
      rx_nombuf_.add();
      break;
    }
    rte_mbuf* m = stash_[stash_n_ - 1];
    iovec iov[2] = {{rte_pktmbuf_mtod(m, void*), rx_room_}, {t_overflow, sizeof t_overflow}};
    ssize_t r = ::readv(fd, iov, 2);
    if (r <= 0) {
      if (r < 0 && errno == EBADFD) detached_ = true;  // the interface was deleted: one error, then quiet
      if (r < 0 && errno != EAGAIN && errno != EINTR) rx_errors_.add();
      break;
    }
    if (static_cast<size_t>(r) > rx_room_) {
      rx_oversize_.add();
      continue;
    }
    --stash_n_;
    m->data_len = static_cast<uint16_t>(r);
    m->pkt_len = static_cast<uint32_t>(r);
    pkts[got++] = m;
    bytes += static_cast<uint64_t>(r);
  }
  if (got) {
    rx_packets_.add(got);
    rx_bytes_.add(bytes);
  }
  return got;
}

uint16_t TapPort::tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept {
  const int fd = handle_.fd.get();
  uint16_t i = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  for (; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ssize_t r;
    if (m->nb_segs == 1) {
      r = ::write(fd, rte_pktmbuf_mtod(m, const void*), m->data_len);
    } else if (m->nb_segs <= kMaxSegs) {
      iovec iov[kMaxSegs];
      unsigned k = 0;
      for (rte_mbuf* s = m; s; s = s->next) iov[k++] = {rte_pktmbuf_mtod(s, void*), s->data_len};
      r = ::writev(fd, iov, static_cast<int>(k));
    } else {
      r = -1;
      errno = EMSGSIZE;
    }
    if (r < 0) {
      if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) break;  // caller keeps the rest
      ++errors;
      continue;
    }
    ++sent;
    bytes += m->pkt_len;
  }
  rte_pktmbuf_free_bulk(pkts, i);
  tx_packets_.add(sent);
  tx_bytes_.add(bytes);
  if (errors) tx_errors_.add(errors);
  return i;
}

LinkState TapPort::link() const {
  LinkState s;
  s.gone = tap_ifname(handle_.fd.get()).empty();  // the tun file is detached once the interface is deleted
  s.up = !s.gone && tap_link_up(handle_.fd.get());
  return s;
}

PortStats TapPort::stats() const {
  PortStats s;
  s.rx_packets = rx_packets_.get();
  s.rx_bytes = rx_bytes_.get();
  s.tx_packets = tx_packets_.get();
  s.tx_bytes = tx_bytes_.get();
  s.rx_nombuf = rx_nombuf_.get();
  s.rx_oversize = rx_oversize_.get();
  s.rx_errors = rx_errors_.get();
  s.tx_errors = tx_errors_.get();
  return s;
}

void TapPort::describe(nlohmann::json& out) const {
  out["ifname"] = tap_ifname(handle_.fd.get());
  out["origin"] = to_string(handle_.origin);
  out["fd"] = handle_.fd.get();
  out["max_frame"] = rx_room_;
}

}  // namespace tapswitch
