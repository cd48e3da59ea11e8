// Low-level /dev/net/tun handling for raw-fd TAP ports.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace tapswitch {

constexpr const char* kTunPath = "/dev/net/tun";

// How a tap port came to be, which decides what happens to the interface at exit.
enum class TapOrigin : uint8_t {
  created,   // the switch created it: the kernel deletes it when the switch closes its fd
  attached,  // a persistent tap existed: it stays after exit
  adopted,   // an fd inherited from the parent: closed at exit; the interface is the parent's
  link,      // not a tap fd: a packet socket on an existing interface (ports/link_socket.h)
};
const char* to_string(TapOrigin origin);

// The virtio-net header tapswitch asks for: 12 bytes, the size of virtio_net_hdr_mrg_rxbuf, as
// qemu and vhost-net use it. The kernel leaves the last two bytes (num_buffers) zero on read
// and ignores them on write; only the first 10 carry meaning (see ports/vnet_hdr.h).
constexpr int kVnetHdrLen = 12;

// TUNSETOFFLOAD bits newer than Debian 12's kernel headers (Linux 6.2+).
constexpr unsigned kTunFUso4 = 0x20;
constexpr unsigned kTunFUso6 = 0x40;

// What the kernel side of a tap hands over and accepts, beyond plain frames.
struct TapOffloads {
  uint8_t vnet_hdr_len = 0;  // 0: no virtio-net header on this fd; else its size in bytes
  unsigned tun_f = 0;        // the TUN_F_* bits TUNSETOFFLOAD accepted (0 without a header)

  bool vnet() const noexcept { return vnet_hdr_len != 0; }
  bool csum() const noexcept;
  bool tso4() const noexcept;
  bool tso6() const noexcept;
  bool uso() const noexcept;  // UDP segmentation offload, IPv4 and IPv6
  std::string describe() const;  // "csum tso4 tso6 uso", "none", "off"
};

struct TapHandle {
  UniqueFd fd;                     // queue 0
  std::vector<UniqueFd> more_fds;  // queues 1..N-1 of a multi-queue tap
  std::string ifname;
  TapOrigin origin = TapOrigin::created;
  TapOffloads offloads;
  bool multi_queue = false;        // the tap has IFF_MULTI_QUEUE
  int ifindex = 0;                 // TapOrigin::link only: the interface the socket is bound to

  uint16_t queues() const noexcept { return static_cast<uint16_t>(1 + more_fds.size()); }
  int queue_fd(uint16_t q) const noexcept { return q == 0 ? fd.get() : more_fds[q - 1].get(); }
};

// Opens /dev/net/tun and creates or attaches the tap `ifname` (IFF_TAP | IFF_NO_PI), with the fd
// non-blocking. With `offload`, the tap also gets IFF_VNET_HDR, a kVnetHdrLen header and the
// richest set of offloads TUNSETOFFLOAD accepts (probed, never assumed); without it, plain
// frames only. Throws Error naming the port spec and the reason (busy, not a tap, no
// permission, no /dev/net/tun).
//
// Queues: with queues > 1 the tap is multi-queue (IFF_MULTI_QUEUE) and gets one fd per queue;
// the kernel spreads the frames it sends to the tap over them by flow, so one flow always
// arrives on one fd. An existing tap keeps its mode: a multi-queue one is attached multi-queue
// (with any count), and a single-queue one cannot give more than one queue. A multi-queue tap
// that another process already holds queues of is refused, as a busy single-queue one is.
TapHandle open_tap(const std::string& spec, const std::string& ifname, bool offload, uint16_t queues = 1);

// Takes over an inherited tun fd after checking that it is a TAP without packet information.
// Only an fd tapswitch inherited, and no port adopted yet, is taken (base/inherited_fds.h). The
// handle owns a close-on-exec duplicate of it; the caller calls inherited_fds::adopted(fd) once
// the port is in place, and a refused port leaves `fd` as it was.
// If the fd has IFF_VNET_HDR (which only its creator can change), its header size is honoured
// and offloads are probed as for open_tap, or turned off (TUNSETOFFLOAD 0) without `offload`.
// A big-endian (cross-endian) header is refused. The file becomes non-blocking. Throws Error
// otherwise.
//
// With queues > 1 the fd must be of a multi-queue tap; the other queues are opened by the
// interface's name inside its network namespace, with the fd's flags.
TapHandle adopt_tap_fd(const std::string& spec, int fd, bool offload, uint16_t queues = 1);

// Interface ioctls (flags, MTU) on the interface behind a tap fd, in whichever network namespace
// it lives in now. It keeps a socket only in the switch's own namespace: a socket pins its
// namespace, so one kept in a user's namespace would keep that namespace (and the tap in it)
// alive after `ip netns del`, and the port would never be seen gone. In another namespace it
// makes a socket for each call (socket_in_netns, ~8 us). Control plane only; one thread at a
// time.
class TapIfControl {
 public:
  bool link_up(int tap_fd);           // IFF_UP and IFF_RUNNING
  unsigned mtu(int tap_fd);           // 0 if it cannot be read
  int set_mtu(int tap_fd, unsigned mtu);  // 0, or the errno of the failure

 private:
  bool with(int tap_fd, const std::function<bool(int, const std::string&)>& fn);
  UniqueFd sock_;  // in the switch's own namespace, made at the first use there
};

// Caps the GSO packets the kernel hands the interface behind a tap fd at `bytes`
// (IFLA_GSO_MAX_SIZE, over rtnetlink, in whichever network namespace the interface lives now):
// a larger one is segmented by the kernel before it reaches the fd, and TCP builds none.
// Returns 0, or the errno of the failure. Control plane only: it starts a short thread.
int set_gso_max_size(int tap_fd, uint32_t bytes);
// Reads it (0 or an errno; ENOENT if the kernel does not report it).
int get_gso_max_size(int tap_fd, uint32_t& bytes);

// Sets the MTU of the interface behind a tap fd. Throws Error naming the spec and the reason.
void set_tap_mtu(const std::string& spec, int fd, unsigned mtu);

// The current name of the interface behind a tap fd ("" if detached).
std::string tap_ifname(int fd);

// The nsfs inode of the network namespace the tap fd's interface lives in (0 if unknown).
uint64_t tap_netns(int fd);

// Finds a tun fd of this process attached to interface `ifname` (-1 if none). DPDK's net_tap
// keeps such fds; through one, the link state can be read even after the interface moved to
// another network namespace, where DPDK itself can no longer see it. Control plane only.
int find_own_tun_fd(const std::string& ifname);

// IFF_UP and IFF_RUNNING of the interface behind a tap fd, looked up in whichever network
// namespace the interface lives in now. Control plane only: it may start a short thread.
bool tap_link_up(int fd);
// The MTU of that interface, the same way; 0 if it cannot be read.
unsigned tap_mtu(int fd);

}  // namespace tapswitch
