// EthdevPort: any DPDK ethdev, probed at runtime from devargs (net_tap, net_af_packet, net_ring...).
//
// The port is probed with rte_dev_probe(), configured with `queues` rx and tx queues on the
// switch's pool (with rx interrupts where the driver has them), put in promiscuous and
// all-multicast mode (a switch must see every frame), and started. Destruction stops it and removes the device, so the same devargs can be probed again.
//
// MTU: mtu=N sets it through the ethdev API (net_tap and af_packet set the kernel interface's),
// up to the driver's limit (DPDK 22.11's net_tap: 1504; it refuses to send longer frames). The
// port's MTU is then read from the kernel side where there is one, never above that limit, and
// refresh() follows it. Frames longer than one mbuf are received as chains where the driver
// can scatter. The port declares
// no checksum or TSO offloads: tapswitch completes those in software before the frame reaches
// the driver (switch/egress_offload.h), since net_tap would do them in software too.
//
// net_tap's rx signals: the port turns off the signal net_tap has the kernel send for every
// frame and reads its queues when the worker asks (ports/net_tap_rx_kick.h); `show ports -j`
// says rx_signals: false. A single-queue af_packet port, whose driver has no rx interrupts,
// lets idle workers sleep on its packet socket instead (ports/packet_sockets.h). A frame net_tap could not send (its interface down: EIO) is dropped
// by the port and counted once, as tx_link_down or tx_errors, not left to the caller as tx_full.
//
// Concurrency: as for Port; each queue is used by one thread at a time.
#pragma once

#include <rte_ethdev.h>

#include <atomic>
#include <memory>
#include <vector>

#include "base/counter.h"
#include "dpdk/pkt_pool.h"
#include "ports/net_tap_rx_kick.h"
#include "ports/port.h"
#include "ports/port_spec.h"
#include "ports/tx_failures.h"
#include "ports/tun.h"

namespace tapswitch {

class EthdevPort final : public Port {
 public:
  static std::unique_ptr<EthdevPort> open(const PortSpec& spec, PktPool& pool);
  ~EthdevPort() override;

  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept override;

  LinkState link() const override;
  PortStats stats() const override;
  void describe(nlohmann::json& out) const override;
  void refresh() override;
  KernelInterface kernel_interface() const override;
  uint16_t rx_queues() const noexcept override { return nq_; }
  uint16_t tx_queues() const noexcept override { return nq_; }
  int rx_notify_fd(uint16_t queue) const noexcept override;
  bool rx_notify_arm(uint16_t queue) noexcept override;
  void rx_notify_disarm(uint16_t queue) noexcept override;
  bool rx_notify_asleep_only(uint16_t /*queue*/) const noexcept override { return notify_by_socket_; }
  // af_packet's socket says ENETDOWN once when its interface goes down, and keeps it until read:
  // read here. Other fds' errors last.
  bool rx_notify_error(uint16_t queue) noexcept override;
  // net_tap without its per-frame signals reads on every burst: an empty one is a system call.
  bool rx_poll_costly(uint16_t /*queue*/) const noexcept override { return static_cast<bool>(rx_kick_); }

  uint16_t port_id() const noexcept { return port_id_; }

 private:
  EthdevPort(const PortSpec& spec, uint16_t port_id);
  void setup(const PortSpec& spec, PktPool& pool);
  unsigned read_mtu() const;
  void find_af_packet_socket();
  void watch_vhost_kicks();  // net_vhost: its guest connected or went away
  static int on_vhost_lsc(uint16_t port_id, rte_eth_event_type, void* self, void*);

  std::string devargs_;
  std::string ifname_;  // iface= from the devargs, if any
  std::string driver_;
  uint16_t port_id_;
  uint16_t nq_ = 1;             // rx queues == tx queues (net_tap pairs them on one fd)
  std::vector<int> intr_fds_;   // per rx queue; -1: no rx interrupt
  bool notify_by_socket_ = false;  // af_packet: intr_fds_[0] is its queue's packet socket
  // net_vhost: its rx interrupt fds (the guest's kick eventfds) exist only while a guest is
  // connected and change with each connection. Each queue offers instead an epoll fd of its own
  // (intr_fds_[q], for the port's life) that holds the current kick fd, edge-triggered: a kick
  // makes it readable, and rx_notify_disarm() takes the event, so the kick fd itself (the vhost
  // library's) is never read here. The link-change callback (DPDK's vhost thread) swaps the kick
  // fds; vhost_kick_ is written there only.
  std::vector<UniqueFd> vhost_epoll_;
  std::unique_ptr<std::atomic<int>[]> vhost_kick_;
  bool vhost_lsc_registered_ = false;
  bool started_ = false;
  // af_packet: the PMD turns the interface's IFF_PROMISC on, and leaves it on at close; turned
  // off again at close unless the interface had it before.
  bool restore_promisc_ = false;
  struct alignas(64) QueueTxFailures {
    TxFailures f;
  };
  // net_vhost: rx offload flags mapped onto tapswitch's (ports/vnet_hdr.h); frames that could not
  // be described are dropped and counted (as rx_errors), per queue.
  bool map_rx_offloads_ = false;
  struct alignas(64) QueueCount {
    Counter n;
  };
  std::unique_ptr<QueueCount[]> rx_unmapped_;
  std::unique_ptr<QueueTxFailures[]> tx_failures_;  // net_tap only: frames it refused, by queue
  NetTapRxKick rx_kick_;        // net_tap only: its rx trigger, pulled before each burst
  mutable TapIfControl ifctl_;  // net_tap's kernel side; control thread only
  uint32_t max_mtu_ = kDefaultMtu;  // the driver's limit
};

}  // namespace tapswitch
