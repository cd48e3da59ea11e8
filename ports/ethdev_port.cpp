#include "ports/ethdev_port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_version.h>

#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/if_tun.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/error.h"
#include "base/netns.h"
#include "base/unique_fd.h"
#include "dpdk/log_bridge.h"
#include "ports/link_socket.h"
#include "ports/net_tap_rx_kick.h"
#include "ports/packet_sockets.h"
#include "ports/tun.h"
#include "ports/vnet_hdr.h"

namespace tapswitch {

namespace {

constexpr uint16_t kRxDesc = 512;
constexpr uint16_t kTxDesc = 512;

std::string err_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

uint16_t clamp_desc(uint16_t want, const rte_eth_desc_lim& lim) {
  uint16_t n = want;
  if (lim.nb_max && n > lim.nb_max) n = lim.nb_max;
  if (n < lim.nb_min) n = lim.nb_min;
  if (lim.nb_align > 1) n = static_cast<uint16_t>((n + lim.nb_align - 1) / lim.nb_align * lim.nb_align);
  return n;
}

// Drivers known to give each rx queue an interrupt fd. Asking one that has none makes DPDK log
// an error, so others are not asked; their idle workers back off with short sleeps instead.
bool rx_intr_capable(const std::string& driver) { return driver == "net_tap" || driver == "net_vhost"; }

// Why net_tap could not take interface `ifname` when one of that name exists already (DPDK only
// says that TUNSETIFF failed): "" if there is none.
std::string net_tap_hint(const std::string& ifname) {
  if (ifname.empty() || ::if_nametoindex(ifname.c_str()) == 0) return "";
  std::ifstream f("/sys/class/net/" + ifname + "/tun_flags");
  std::string text;
  if (!(f >> text)) return fmt::format(" (interface '{}' exists and is not a tap)", ifname);
  const unsigned long flags = std::strtoul(text.c_str(), nullptr, 16);
  if (!(flags & IFF_TAP))
    return fmt::format(" (interface '{}' is a tun, a layer-3 device: a switch port needs a tap)", ifname);
  if (!(flags & IFF_MULTI_QUEUE))
    return fmt::format(" (a single-queue tap '{}' exists, and net_tap attaches only to multi-queue ones: "
                       "use tap:{} for it)", ifname, ifname);
  return fmt::format(" (a tap '{}' exists; does another process hold it?)", ifname);
}

}  // namespace

std::unique_ptr<EthdevPort> EthdevPort::open(const PortSpec& spec, PktPool& pool) {
  {
    // The driver says why a probe failed in its log: that line becomes the error.
    DpdkLogCapture dpdk_log;
    int rc = rte_dev_probe(spec.devargs.c_str());
    if (rc < 0) {
      if (rc == -EEXIST)
        fail("port '{}': DPDK device is already probed (is its name used twice?)", spec.text);
      std::string why = dpdk_log.reason();
      const std::string hint = spec.devargs.rfind("net_tap", 0) == 0 ? net_tap_hint(spec.ifname) : "";
      fail("port '{}': DPDK could not probe '{}': {}{}", spec.text, spec.devargs, why.empty() ? err_text(rc) : why,
           hint);
    }
    dpdk_log.replay();
  }
  rte_dev_iterator it{};
  uint16_t pid = RTE_MAX_ETHPORTS;
  if (rte_eth_iterator_init(&it, spec.devargs.c_str()) == 0) {
    pid = rte_eth_iterator_next(&it);
    if (pid != RTE_MAX_ETHPORTS) rte_eth_iterator_cleanup(&it);
  }
  if (pid == RTE_MAX_ETHPORTS) {
    // Probed, but the device did not make an ethdev: remove it again.
    rte_devargs da{};
    if (rte_devargs_parse(&da, spec.devargs.c_str()) == 0) {
      rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
      rte_devargs_reset(&da);
    }
    fail("port '{}': '{}' is not an Ethernet device", spec.text, spec.devargs);
  }
  std::unique_ptr<EthdevPort> port(new EthdevPort(spec, pid));
  port->setup(spec, pool);
  return port;
}

EthdevPort::EthdevPort(const PortSpec& spec, uint16_t port_id)
    : Port(spec.name, PortKind::dpdk), devargs_(spec.devargs), ifname_(spec.ifname), port_id_(port_id) {}

void EthdevPort::setup(const PortSpec& spec, PktPool& pool) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id_, &info);
  if (rc != 0) fail("port '{}': cannot read device info: {}", spec.text, err_text(rc));
  driver_ = info.driver_name ? info.driver_name : "";

  if (spec.queues > info.max_rx_queues || spec.queues > info.max_tx_queues)
    fail("port '{}': driver {} supports at most {} queues", spec.text, driver_,
         std::min(info.max_rx_queues, info.max_tx_queues));
  nq_ = spec.queues;

  rte_eth_conf conf{};
  const uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
                                ? info.max_rx_pktlen - info.max_mtu
                                : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;  // as the ethdev layer counts
  // The driver's own limit (net_tap in DPDK 22.11: 1504, and it refuses to send more).
  max_mtu_ = std::min<uint32_t>(info.max_mtu, info.max_rx_pktlen - overhead);
  if (spec.mtu > max_mtu_)
    fail("port '{}': driver {} takes an MTU of at most {}", spec.text, driver_, max_mtu_);
  if (spec.mtu) conf.rxmode.mtu = spec.mtu;
  // Frames longer than one mbuf are received as chains where the driver can; net_tap reads
  // into a chain only when a frame needs it.
  if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  // offload=on (the default for net_vhost only): the device's checksum and segmentation
  // offloads, where it offers them. net_vhost: a guest's partial checksums and GSO packets cross
  // whole, both ways (with its tso=1 devarg for GSO; without it the guest is offered neither TSO
  // nor the PMD LRO), and asking for the rx checksum offloads keeps the PMD from completing every
  // checksum in software. net_tap (DPDK 22.11) is better without: its TSO drops every segment of
  // a full-sized MSS (it checks the segment with its Ethernet header against the MTU) and, below
  // that, sends segments the receiver rejects; its checksums are the same software work as ours
  // (bench/net_tap_offload.sh).
  constexpr uint64_t kRxOl = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO;
  constexpr uint64_t kTxOl = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO;
  if (spec.offload) {
    conf.rxmode.offloads |= info.rx_offload_capa & kRxOl;
    conf.txmode.offloads |= info.tx_offload_capa & kTxOl;
    map_rx_offloads_ = true;
    if (driver_ == "net_tap" && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
        std::string_view(rte_version()).find("22.11") != std::string_view::npos)
      spdlog::warn("port {}: offload=on: net_tap's TSO in {} loses TCP (segments of a full-sized MSS are dropped, "
                   "shorter ones rejected by the receiver); offload=off, the default, segments in tapswitch",
                   spec.name, rte_version());
  }
  // Rx interrupts let an idle worker sleep; not every driver has them, and that is fine.
  conf.intr_conf.rxq = rx_intr_capable(driver_) ? 1 : 0;
  rc = rte_eth_dev_configure(port_id_, nq_, nq_, &conf);
  if (rc != 0) {
    conf.intr_conf.rxq = 0;
    rc = rte_eth_dev_configure(port_id_, nq_, nq_, &conf);
  }
  if (rc != 0) fail("port '{}': cannot configure device: {}", spec.text, err_text(rc));
  if (spec.mtu) {
    rc = rte_eth_dev_set_mtu(port_id_, static_cast<uint16_t>(spec.mtu));
    if (rc != 0) fail("port '{}': cannot set the MTU to {}: {}", spec.text, spec.mtu, err_text(rc));
  }
  TxOffloads tx;  // what the device does not take, tapswitch does itself (switch/egress_offload.h)
  tx.multi_seg = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  tx.l4_csum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) && (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
  tx.tso4 = tx.tso6 = tx.l4_csum && (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_TSO);
  set_tx_offloads(tx);
  uint16_t nrx = clamp_desc(kRxDesc, info.rx_desc_lim);
  uint16_t ntx = clamp_desc(kTxDesc, info.tx_desc_lim);
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &nrx, &ntx);
  if (rc != 0) fail("port '{}': cannot size queues: {}", spec.text, err_text(rc));
  int socket = rte_eth_dev_socket_id(port_id_);
  if (socket < 0) socket = SOCKET_ID_ANY;
  for (uint16_t q = 0; q < nq_; ++q) {
    rc = rte_eth_rx_queue_setup(port_id_, q, nrx, static_cast<unsigned>(socket), nullptr, pool.get());
    if (rc != 0) fail("port '{}': cannot set up rx queue {}: {}", spec.text, q, err_text(rc));
    rc = rte_eth_tx_queue_setup(port_id_, q, ntx, static_cast<unsigned>(socket), nullptr);
    if (rc != 0) fail("port '{}': cannot set up tx queue {}: {}", spec.text, q, err_text(rc));
  }
  if (driver_ == "net_tap") tx_failures_ = std::make_unique<QueueTxFailures[]>(nq_);
  if (map_rx_offloads_) rx_unmapped_ = std::make_unique<QueueCount[]>(nq_);
  rc = rte_eth_dev_start(port_id_);
  if (rc != 0) fail("port '{}': cannot start device: {}", spec.text, err_text(rc));
  started_ = true;
  // A switch must see frames for every MAC; a port that cannot do this would drop unicast.
  const bool was_promisc =
      driver_ == "net_af_packet" && link_promisc(static_cast<int>(::if_nametoindex(ifname_.c_str())));
  rc = rte_eth_promiscuous_enable(port_id_);
  restore_promisc_ = rc == 0 && driver_ == "net_af_packet" && !was_promisc;
  if (rc != 0 && rc != -ENOTSUP)
    fail("port '{}': cannot enable promiscuous mode: {}", spec.text, err_text(rc));
  if (rc == -ENOTSUP) spdlog::info("port {}: driver {} has no promiscuous mode", name(), driver_);
  rc = rte_eth_allmulticast_enable(port_id_);
  if (rc != 0 && rc != -ENOTSUP)
    fail("port '{}': cannot enable all-multicast mode: {}", spec.text, err_text(rc));

  intr_fds_.assign(nq_, -1);
  if (conf.intr_conf.rxq && rx_intr_capable(driver_)) {
    for (uint16_t q = 0; q < nq_; ++q) intr_fds_[q] = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id_, q);
  }
  spdlog::debug("port {}: {} queue(s), rx interrupts {}", name(), nq_,
                intr_fds_[0] >= 0 ? "available" : "unavailable (idle workers back off instead)");
  if (driver_ == "net_vhost") {
    vhost_kick_ = std::make_unique<std::atomic<int>[]>(nq_);
    for (uint16_t q = 0; q < nq_; ++q) {
      vhost_epoll_.emplace_back(::epoll_create1(EPOLL_CLOEXEC));
      vhost_kick_[q].store(-1);
      intr_fds_[q] = vhost_epoll_.back().get();
    }
    vhost_lsc_registered_ = rte_eth_dev_callback_register(port_id_, RTE_ETH_EVENT_INTR_LSC, on_vhost_lsc, this) == 0;
    if (!vhost_lsc_registered_) std::fill(intr_fds_.begin(), intr_fds_.end(), -1);  // back off instead
    watch_vhost_kicks();
  }
  if (driver_ == "net_af_packet") {
    if (intr_fds_[0] < 0) find_af_packet_socket();
    spdlog::info("port {}: DPDK's af_packet carries no offload state, so TCP from a peer that offloads its "
                 "checksums (a VM's virtio-net, a veth, by default) does not get through; link:{} attaches "
                 "the interface with offloads",
                 name(), ifname_.empty() ? "NAME" : ifname_);
  }
  if (driver_ == "net_tap" && intr_fds_[0] >= 0) {
    // Its rx interrupt fds are the queues' tun fds (ports/net_tap_rx_kick.h).
    std::string why_not;
    rx_kick_ = NetTapRxKick::take_over(intr_fds_, why_not);
    if (rx_kick_)
      spdlog::debug("port {}: net_tap's per-frame rx signal ({}) turned off; queues are read on demand", name(),
                    rx_kick_.signo());
    else
      spdlog::debug("port {}: net_tap keeps its per-frame rx signal: {}", name(), why_not);
  }
  set_mtu(read_mtu());
}

unsigned EthdevPort::read_mtu() const {
  // The kernel side is the truth where there is one: net_tap's tap (through its tun fd, as it
  // may live in another namespace), or the interface an af_packet port is bound to.
  // Never more than the driver sends: a larger kernel MTU is a misconfiguration, and the
  // switch drops (and counts) what the driver would refuse.
  if (!ifname_.empty()) {
    int fd = driver_ == "net_tap" ? find_own_tun_fd(ifname_) : -1;
    unsigned mtu = fd >= 0 ? ifctl_.mtu(fd) : link_mtu(static_cast<int>(::if_nametoindex(ifname_.c_str())));
    if (mtu) return std::min(mtu, max_mtu_);
  }
  uint16_t mtu = 0;
  return rte_eth_dev_get_mtu(port_id_, &mtu) == 0 && mtu ? mtu : kDefaultMtu;
}

void EthdevPort::refresh() {
  const unsigned mtu = read_mtu();
  if (mtu != this->mtu()) {
    spdlog::info("port {}: MTU {} (was {})", name(), mtu, this->mtu());
    set_mtu(mtu);
  }
}

EthdevPort::~EthdevPort() {
  if (vhost_lsc_registered_) rte_eth_dev_callback_unregister(port_id_, RTE_ETH_EVENT_INTR_LSC, on_vhost_lsc, this);
  if (restore_promisc_) rte_eth_promiscuous_disable(port_id_);
  if (started_) rte_eth_dev_stop(port_id_);
  rte_eth_dev_info info{};
  rte_device* dev = nullptr;
  if (rte_eth_dev_info_get(port_id_, &info) == 0) dev = info.device;
  rte_eth_dev_close(port_id_);
  if (dev) {
    int rc = rte_dev_remove(dev);
    if (rc != 0 && rc != -ENOENT)
      spdlog::warn("port {}: DPDK could not remove device: {}", name(), err_text(rc));
  }
}

uint16_t EthdevPort::rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  if (rx_kick_) rx_kick_();  // net_tap: read the queue now, not only after a signal
  const uint16_t got = rte_eth_rx_burst(port_id_, queue, pkts, n);
  if (!map_rx_offloads_) return got;
  uint16_t kept = 0;
  for (uint16_t i = 0; i < got; ++i) {
    if (likely(rx_offloads_to_mbuf(pkts[i]))) {
      pkts[kept++] = pkts[i];
    } else {
      rte_pktmbuf_free(pkts[i]);
      rx_unmapped_[queue].n.add();
    }
  }
  return kept;
}

uint16_t EthdevPort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  if (!tx_failures_) return rte_eth_tx_burst(port_id_, queue, pkts, n);
  // net_tap sends until the kernel refuses a frame, then stops, leaving that frame and the rest
  // to the caller (who would count them as tx_full) and counting them all in its oerrors (the
  // refused one twice). Here the refused frame is dropped and counted once, by its errno; the
  // rest is offered again, unless the interface is down (EIO), which every frame would meet.
  TxFailures& f = tx_failures_[queue].f;
  uint16_t done = 0;
  while (done < n) {
    errno = 0;
    done += rte_eth_tx_burst(port_id_, queue, pkts + done, n - done);
    if (done == n) break;
    const int err = errno;  // the failed writev's (0: net_tap refused the frame itself, oversize)
    if (err == EAGAIN) return done;  // full after all: the caller's tx_full
    const uint16_t dropped = err == EIO ? n - done : 1;
    rte_pktmbuf_free_bulk(pkts + done, dropped);
    f.count_failed(err ? err : EMSGSIZE, dropped);
    done += dropped;
  }
  return n;
}

KernelInterface EthdevPort::kernel_interface() const {
  if (ifname_.empty()) return {};
  // net_tap's interface may have moved to another namespace; its tun fds (ours) still say where.
  if (driver_ == "net_tap") {
    const int fd = find_own_tun_fd(ifname_);
    return fd >= 0 ? KernelInterface{tap_netns(fd), ifname_} : KernelInterface{};
  }
  return {own_netns(), ifname_};
}

bool EthdevPort::rx_notify_error(uint16_t queue) noexcept {
  if (!notify_by_socket_ || queue >= intr_fds_.size()) return true;
  clear_socket_error(intr_fds_[queue]);
  return false;
}

int EthdevPort::rx_notify_fd(uint16_t queue) const noexcept {
  return queue < intr_fds_.size() ? intr_fds_[queue] : -1;
}

void EthdevPort::find_af_packet_socket() {
  // Its queue's packet socket polls readable while its ring holds frames (ports/packet_sockets.h).
  const unsigned ifindex = ifname_.empty() ? 0 : ::if_nametoindex(ifname_.c_str());
  const std::vector<int> fds = ifindex ? own_packet_sockets(ifindex) : std::vector<int>{};
  if (nq_ == 1 && fds.size() == 1) {
    intr_fds_[0] = fds[0];
    notify_by_socket_ = true;
    spdlog::debug("port {}: idle workers sleep on its packet socket (fd {})", name(), fds[0]);
  } else {
    spdlog::debug("port {}: {} queue(s) and {} packet socket(s) on {}: idle workers back off instead", name(), nq_,
                  fds.size(), ifname_);
  }
}

int EthdevPort::on_vhost_lsc(uint16_t, rte_eth_event_type, void* self, void*) {
  static_cast<EthdevPort*>(self)->watch_vhost_kicks();
  return 0;
}

void EthdevPort::watch_vhost_kicks() {
  // A guest is there while the link is up. Its kick fds are registered afresh at every change:
  // a new guest's may reuse an old one's number, and an old one may already be closed (and so
  // out of the epoll set by itself).
  rte_eth_link l{};
  const bool up = rte_eth_link_get_nowait(port_id_, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
  for (uint16_t q = 0; q < nq_; ++q) {
    const int fd = up ? rte_eth_dev_rx_intr_ctl_q_get_fd(port_id_, q) : -1;
    const int old = vhost_kick_[q].exchange(-1);
    if (old >= 0) ::epoll_ctl(vhost_epoll_[q].get(), EPOLL_CTL_DEL, old, nullptr);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    if (fd >= 0 && ::epoll_ctl(vhost_epoll_[q].get(), EPOLL_CTL_ADD, fd, &ev) == 0) vhost_kick_[q].store(fd);
  }
}

bool EthdevPort::rx_notify_arm(uint16_t queue) noexcept {
  if (notify_by_socket_) return true;  // the socket polls readable by itself
  // net_vhost without a guest: nothing can arrive, and one that connects kicks its first frames.
  if (vhost_kick_ && vhost_kick_[queue].load() < 0) return true;
  // A driver without an enable op (-ENOTSUP) signals on its fd anyway.
  int rc = rte_eth_dev_rx_intr_enable(port_id_, queue);
  return rc == 0 || rc == -ENOTSUP;
}

void EthdevPort::rx_notify_disarm(uint16_t queue) noexcept {
  if (notify_by_socket_) return;
  rte_eth_dev_rx_intr_disable(port_id_, queue);
  if (vhost_kick_) {  // take the kick's edge event, so the queue's epoll fd is quiet until the next
    epoll_event evs[4];
    (void)::epoll_wait(vhost_epoll_[queue].get(), evs, 4, 0);
  }
}

LinkState EthdevPort::link() const {
  rte_eth_link l{};
  if (rte_eth_link_get_nowait(port_id_, &l) != 0) return {};
  LinkState s{l.link_status == RTE_ETH_LINK_UP, l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0u : l.link_speed};
  // af_packet's PMD says up whatever its interface does: ask the kernel.
  if (driver_ == "net_af_packet" && !ifname_.empty()) {
    const unsigned ifindex = ::if_nametoindex(ifname_.c_str());
    s.gone = ifindex == 0;
    s.up = !s.gone && link_up(static_cast<int>(ifindex));
    return s;
  }
  // net_tap asks the kernel by interface name in our namespace, so it reports "down" once the
  // interface has been moved into another one. Ask through its tun fd instead.
  if (!s.up && driver_ == "net_tap" && !ifname_.empty()) {
    int fd = find_own_tun_fd(ifname_);
    if (fd >= 0) s.up = ifctl_.link_up(fd);
    s.gone = fd < 0;  // no tun fd of ours is attached to it any more: the interface was deleted
  }
  return s;
}

PortStats EthdevPort::stats() const {
  rte_eth_stats st{};
  PortStats s;
  if (rte_eth_stats_get(port_id_, &st) != 0) return s;
  s.rx_packets = st.ipackets;
  s.rx_bytes = st.ibytes;
  s.tx_packets = st.opackets;
  s.tx_bytes = st.obytes;
  s.rx_nombuf = st.rx_nombuf;
  s.rx_errors = st.ierrors;
  if (rx_unmapped_)
    for (uint16_t q = 0; q < nq_; ++q) s.rx_errors += rx_unmapped_[q].n.get();
  if (!tx_failures_) s.tx_errors = st.oerrors;
  for (uint16_t q = 0; tx_failures_ && q < nq_; ++q) {  // net_tap's oerrors count refused frames twice
    s.tx_errors += tx_failures_[q].f.errors.get();
    s.tx_link_down += tx_failures_[q].f.link_down.get();
  }
  s.rx_missed = st.imissed;
  return s;
}

void EthdevPort::describe(nlohmann::json& out) const {
  out["devargs"] = devargs_;
  out["driver"] = driver_;
  out["port_id"] = port_id_;
  out["mtu"] = mtu();
  out["offload"] = map_rx_offloads_;  // offload=on: the device's checksum and TSO/LRO offloads
  out["rx_interrupts"] = !intr_fds_.empty() && intr_fds_[0] >= 0;  // (or, for af_packet, its socket)
  if (driver_ == "net_tap") out["rx_signals"] = !rx_kick_;  // one signal per frame (net_tap_rx_kick.h)
  for (uint16_t q = 0; tx_failures_ && q < nq_; ++q)
    if (const uint64_t e = tx_failures_[q].f.last_error.get()) out["tx_last_error"] = std::strerror(static_cast<int>(e));
  char name[RTE_ETH_NAME_MAX_LEN];
  if (rte_eth_dev_get_name_by_port(port_id_, name) == 0) out["device"] = name;
}

}  // namespace tapswitch
