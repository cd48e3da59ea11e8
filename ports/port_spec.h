// Parsing of --port SPEC strings.
//
//   tap:NAME[,OPTS]           raw-fd TAP by interface name (created if absent); recreate=on
//                             re-creates it if the interface is deleted under the switch
//   tapfd:N[,name=LABEL][,OPTS]  raw-fd TAP adopted from inherited file descriptor N
//   link:NAME[,queues=N][,ring=on|off]  an existing kernel interface (a VM's tap that qemu
//                             holds, a veth end) through a packet socket with offloads
//                             (ports/link_socket.h); queues=N: N sockets in a fanout group, one
//                             per queue; ring=off reads each frame with recvmsg() instead of
//                             from a receive ring (ports/link_ring.h; default on)
//   dpdk:DEVARGS[,queues=N][,mtu=N][,offload=on|off]  any DPDK device, e.g. net_tap0,iface=vm2
//                             or net_af_packet0,iface=vnet0; queues=N, mtu=N and offload= are
//                             tapswitch's and are taken out of the devargs (net_vhost keeps
//                             queues= too: it has a devarg of that name with the same meaning);
//                             mtu=N is set through the ethdev API (68..65535; net_tap, a kernel
//                             tap underneath: 68..65521); offload=on asks the device for the
//                             checksum and TSO/LRO offloads it offers (default: on for
//                             net_vhost, off for the others); each of queues=, mtu=, offload=
//                             and iface= may be given once (drivers differ on which of two
//                             they take)
//
// OPTS for raw-fd taps:
//   offload=on|off    virtio-net header with checksum/TSO/USO offloads (default on)
//   mtu=N             set the kernel interface's MTU (68..65521, a tap's largest; default: leave it)
//   io=syscall|uring  one read/write per frame, or batched io_uring (default: --tap-io)
//   queues=N          a multi-queue tap (IFF_MULTI_QUEUE) with N fds, one per rx/tx queue
//                     (default 1; an existing multi-queue tap is attached multi-queue either way)
//
// parse_port_spec() checks syntax only (and names, which must fit IFNAMSIZ); whether the
// interface or fd exists is checked when the port opens.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ports/port.h"

namespace tapswitch {

enum class TapIo : uint8_t { automatic, uring, syscall };  // automatic: the global --tap-io
const char* to_string(TapIo io);

constexpr uint32_t kMinMtu = 68;
constexpr uint32_t kMaxMtu = 65535;
constexpr uint32_t kMaxTapMtu = 65521;  // the kernel's tap: 65535 less its 14-byte Ethernet header

struct PortSpec {
  PortKind kind = PortKind::tap;
  std::string text;                                        // the spec as given
  std::string name;                                        // port name (interface name if any)
  std::string ifname;                                      // kernel interface, if known up front
  int fd = -1;                                             // tapfd only
  bool recreate = false;                                   // tap: re-create the interface if it is deleted
  bool ring = true;                                        // link: a receive ring (ring=on|off)
  uint16_t queues = 1;                                     // rx queues == tx queues (queues=N)
  std::string devargs;                                     // dpdk only
  std::vector<std::pair<std::string, std::string>> opts;   // key=val options (tap, tapfd, link)
  bool offload = true;                                     // offload=on|off (tap, tapfd, dpdk)
  uint32_t mtu = 0;                                        // mtu=N; 0 leaves the MTU as it is
  TapIo io = TapIo::automatic;                             // io= (tap, tapfd)

  const std::string* opt(const std::string& key) const;
};

// Throws Error with a message naming the spec and the problem.
PortSpec parse_port_spec(const std::string& text);

// Throws Error if two specs name the same port, interface, fd or DPDK device, quoting the later
// spec and naming the earlier one.
void check_unique(const std::vector<PortSpec>& specs);
// The same for a port added to `existing` (port add): quotes `added`, names the one it collides with.
void check_unique(const std::vector<PortSpec>& existing, const PortSpec& added);

constexpr size_t kMaxIfNameLen = 15;  // IFNAMSIZ - 1
constexpr uint16_t kMaxQueues = 16;   // per port

}  // namespace tapswitch
