// Port: the one interface every kind of port implements.
//
// The data path sees only rx_burst/tx_burst: bursts of mbuf pointers on a queue, returning a
// count, one virtual call per burst and never per frame. Everything else (link state, counters,
// description) is a separate, control-plane call.
//
// Concurrency contract:
//  - rx_burst(q) is called by exactly one thread: the worker that owns rx queue q.
//  - tx_burst(q) is called by exactly one thread at a time per queue, unless tx_mt_safe() says
//    the kind tolerates concurrent callers on one queue.
//  - link(), stats() and info() may be called from the control thread at any time, concurrently
//    with the data path; they read counters that are never torn but may be slightly stale.
//  - Construction and destruction happen on the control thread while no worker uses the port.
//
// Ownership: rx_burst hands the caller new mbufs. tx_burst takes ownership of the first k mbufs
// it returns (sent, or dropped by the port and counted in its tx_errors or tx_link_down); the
// caller keeps the rest and decides whether to retry or drop them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

struct rte_mbuf;

namespace tapswitch {

enum class PortKind : uint8_t {
  tap,    // raw-fd TAP opened by name through /dev/net/tun
  tapfd,  // raw-fd TAP adopted from an inherited file descriptor
  link,   // an existing kernel interface through a packet socket (the TAP port's data path)
  dpdk,   // any DPDK ethdev, probed from devargs (net_tap, net_af_packet, ...)
};

const char* to_string(PortKind kind);

// What the port itself counts; the switch counts its own decisions separately.
struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0;
  uint64_t tx_packets = 0, tx_bytes = 0;
  uint64_t rx_nombuf = 0;    // frames the device dropped because the mbuf pool was empty
  // Times the port stopped reading for want of buffers (its own 64 KB receive buffers all held
  // by frames on their way out, or the switch's mbuf pool empty), however long each stop and
  // however often the port was polled meanwhile: the frames stay queued in the kernel (a tap's
  // queue, a packet socket's ring) until buffers come back; not a drop. What the kernel then
  // drops is counted where it drops (rx_missed for a packet socket).
  uint64_t rx_paused = 0;
  uint64_t rx_oversize = 0;  // frames longer than the port's MTU allows, dropped whole
  uint64_t rx_errors = 0, tx_errors = 0;
  uint64_t tx_link_down = 0;  // frames the port could not send because its interface was down
  uint64_t rx_missed = 0;    // dropped by the device before the switch could read them

  PortStats& operator+=(const PortStats& o) noexcept {
    rx_packets += o.rx_packets, rx_bytes += o.rx_bytes, tx_packets += o.tx_packets, tx_bytes += o.tx_bytes;
    rx_nombuf += o.rx_nombuf, rx_oversize += o.rx_oversize, rx_errors += o.rx_errors, tx_errors += o.tx_errors;
    tx_link_down += o.tx_link_down, rx_missed += o.rx_missed, rx_paused += o.rx_paused;
    return *this;
  }
};
static_assert(sizeof(PortStats) == 11 * sizeof(uint64_t), "PortStats::operator+= must add every counter");

// What a port takes on transmit beyond plain frames with complete checksums. The switch does in
// software what a port cannot (switch/egress_offload.h). ports/vnet_hdr.h describes the mbuf
// fields these offloads use.
struct TxOffloads {
  bool l4_csum = false;    // partial TCP/UDP checksums (RTE_MBUF_F_TX_TCP_CKSUM, _UDP_CKSUM)
  bool tso4 = false;       // TCP GSO frames over IPv4 (RTE_MBUF_F_TX_TCP_SEG)
  bool tso6 = false;       // TCP GSO frames over IPv6
  bool uso = false;        // UDP GSO frames (RTE_MBUF_F_TX_UDP_SEG)
  bool multi_seg = true;   // chained mbufs
};

// One meaning of MTU, on both sides of a port: the largest L3 packet the kernel interface (or
// device) sends and receives is also the largest the switch takes from and gives to the port.
// A frame may be the MTU plus its Ethernet header, plus 4 bytes if it carries an 802.1Q tag
// (as the Linux bridge allows). A GSO frame is judged by the frames it will be cut into.
constexpr uint32_t kEthHdrLen = 14;
constexpr uint32_t kVlanTagLen = 4;
constexpr uint32_t kDefaultMtu = 1500;
constexpr uint32_t max_frame_len(uint32_t mtu, bool tagged) noexcept {
  return mtu + kEthHdrLen + (tagged ? kVlanTagLen : 0);
}

struct LinkState {
  bool up = false;
  uint32_t speed_mbps = 0;  // 0 when the kind has no meaningful speed
  bool gone = false;        // the interface behind the port no longer exists (deleted)
  std::string master;       // a link port's interface became a port of this bridge or bond
};

// The kernel interface a port sends through and receives from, where it has one: its network
// namespace (the nsfs inode) and its name there. Two ports on one interface would send every
// flood back in (a tapfd: port's tap also added as link:NAME).
struct KernelInterface {
  uint64_t netns = 0;
  std::string name;  // "": none known
  bool operator==(const KernelInterface&) const = default;
};

class Port {
 public:
  Port(std::string name, PortKind kind) : name_(std::move(name)), kind_(kind) {}
  virtual ~Port() = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // --- data path ---
  virtual uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept = 0;
  virtual uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept = 0;

  // --- control plane ---
  virtual LinkState link() const = 0;
  virtual PortStats stats() const = 0;
  // Kind-specific details for `show ports` (interface, devargs, created/attached, ...).
  virtual void describe(nlohmann::json& out) const = 0;

  // Re-reads what may change behind the switch's back (the kernel interface's MTU). Control
  // thread only; the control loop calls it about once a second.
  virtual void refresh() {}

  // The kernel interface behind the port ({} where none, or where it cannot be read).
  virtual KernelInterface kernel_interface() const { return {}; }

  virtual uint16_t rx_queues() const noexcept { return 1; }
  virtual uint16_t tx_queues() const noexcept { return 1; }
  virtual bool tx_mt_safe() const noexcept { return false; }

  // --- adaptive polling (called by the worker that owns rx queue q) ---
  // An fd that polls readable (EPOLLIN) while rx queue q may have frames, once rx_notify_arm(q)
  // returned true; -1 if the port cannot notify (the worker then backs off with short sleeps).
  // The fd belongs to the port and stays valid for the port's life.
  virtual int rx_notify_fd(uint16_t /*queue*/) const noexcept { return -1; }
  // Arms the notification before the worker sleeps; false if it could not be armed.
  virtual bool rx_notify_arm(uint16_t /*queue*/) noexcept { return true; }
  // Disarms it after the worker woke up.
  virtual void rx_notify_disarm(uint16_t /*queue*/) noexcept {}
  // True if the worker should watch rx_notify_fd(q) only while it sleeps: the fd signals every
  // frame (a packet socket's ring), and each signal to a watching epoll set costs the sender.
  // The worker then adds the fd to its epoll set before each sleep and takes it out after.
  virtual bool rx_notify_asleep_only(uint16_t /*queue*/) const noexcept { return false; }
  // Called by the worker when rx_notify_fd(q) polled an error (EPOLLERR, EPOLLHUP). The port
  // clears what can be cleared and says whether the error lasts. True (it lasts: a tap whose
  // interface was deleted): the worker stops watching the fd, which would otherwise end every
  // sleep at once. False (cleared: a packet socket's pending ENETDOWN, left when its interface
  // went down, which its receive ring never reads): the worker keeps watching.
  virtual bool rx_notify_error(uint16_t /*queue*/) noexcept { return true; }
  // True while an rx_burst(q) that finds nothing still costs a system call (a raw-fd tap's
  // read()). The worker then stops calling rx_burst(q) once it came back short of a full burst
  // (such a burst ended on an empty read, or on an empty pool), and asks
  // its epoll set, once per loop for all such queues, whether rx_notify_fd(q) polls readable.
  // Only a port whose notification fd needs no arming may say true.
  virtual bool rx_poll_costly(uint16_t /*queue*/) const noexcept { return false; }
  // The worker stops polling rx queue q (the queue left its plan, usually because the port is
  // being removed, or the worker stops): the port lets go of what its pending reads hold, so
  // that the control thread's destructor releases everything at once. Called by the thread that
  // polled q; rx_burst(q) may follow later on that thread.
  virtual void rx_release(uint16_t /*queue*/) noexcept {}

  const std::string& name() const noexcept { return name_; }
  PortKind kind() const noexcept { return kind_; }

  // The port's MTU (see max_frame_len). Workers read it for every burst they send; it may
  // change while they run.
  uint32_t mtu() const noexcept { return mtu_.load(std::memory_order_relaxed); }
  // Fixed once the port is open.
  const TxOffloads& tx_offloads() const noexcept { return tx_offloads_; }

 protected:
  void set_mtu(uint32_t mtu) noexcept { mtu_.store(mtu, std::memory_order_relaxed); }
  void set_tx_offloads(const TxOffloads& o) noexcept { tx_offloads_ = o; }

 private:
  std::string name_;
  PortKind kind_;
  std::atomic<uint32_t> mtu_{kDefaultMtu};
  TxOffloads tx_offloads_;
};

}  // namespace tapswitch
