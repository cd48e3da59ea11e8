// An existing kernel interface (a VM's tap that qemu holds, the host end of a veth, any Ethernet
// interface) attached through an AF_PACKET socket, for `link:NAME` ports.
//
// The socket carries a virtio-net header (PACKET_VNET_HDR), always, so frames keep
// their offload state across the switch, as on a raw-fd tap: a GSO packet of up to 64 KB or a
// frame with a partial checksum (what a guest's virtio-net or a veth peer sends, both by
// default) arrives whole with a header saying so, and is sent back out the same way. DPDK's
// net_af_packet has no such header: it hands over partial checksums as they are and cuts GSO
// packets at its ring's frame size, so TCP from an offloading peer does not get through it.
//
// The socket is bound to the interface's index and set promiscuous (the kernel drops that
// membership when the socket closes). It does not see the frames it sends, nor those the host
// sends out of the interface (PACKET_IGNORE_OUTGOING). A VLAN tag that the kernel took off into
// the packet's metadata (it always does for a tagged frame it receives) comes back through
// PACKET_AUXDATA and is put back into the frame here.
//
// Control plane only, except recv_link_frame() and recv_link_one() (the port's rx thread).
#pragma once

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ports/tun.h"

namespace tapswitch {

// The virtio-net header of a packet socket: struct virtio_net_hdr, without num_buffers.
constexpr uint8_t kPacketVnetHdrLen = 10;

// Opens and binds the socket for interface `ifname` of this network namespace (non-blocking,
// close-on-exec). Throws Error naming the spec and the reason (no such interface, not
// Ethernet, a port of a bridge or bond, no permission). The handle's origin is
// TapOrigin::link and its ifindex is set.
// With queues > 1, one socket per queue, joined in a PACKET_FANOUT group of hash type: the
// kernel spreads the frames it receives over them by flow (one flow, one socket), as it does
// over a multi-queue tap's fds; any socket sends.
TapHandle open_link(const std::string& spec, const std::string& ifname, uint16_t queues = 1);

// setsockopt(fd, SOL_PACKET, name, ...); throws Error naming the spec and `what` on failure.
void set_packet_opt(const std::string& spec, int fd, int name, const void* value, socklen_t len, const char* what);
inline void set_packet_opt(const std::string& spec, int fd, int name, int value, const char* what) {
  set_packet_opt(spec, fd, name, &value, sizeof value, what);
}

// One frame: recvmsg() into buf (header included) with MSG_TRUNC, so the return value is the
// frame's real length even when it did not fit (then larger than len). A VLAN tag the kernel
// kept aside is reported in tpid/tci (tpid 0: none). Returns -1 with errno as recvmsg().
// Frames the host sent out of the interface are skipped.
ssize_t recv_link_frame(int fd, uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci) noexcept;
// The VLAN tag the kernel kept aside for a frame, from the status, TCI and TPID it reports with
// it (PACKET_AUXDATA, or a receive ring slot's header); tpid 0: none.
inline void kept_vlan(uint32_t status, uint16_t vlan_tci, uint16_t vlan_tpid, uint16_t& tpid, uint16_t& tci) noexcept {
  tpid = tci = 0;
  if (!(status & TP_STATUS_VLAN_VALID)) return;
  tci = vlan_tci;
  tpid = (status & TP_STATUS_VLAN_TPID_VALID) && vlan_tpid ? vlan_tpid : ETH_P_8021Q;
}

// One recvmsg(), as above, without skipping: `outgoing` says whether the host sent the frame.
ssize_t recv_link_one(int fd, uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci, bool& outgoing) noexcept;

// The interface's current name ("" once it is gone from this namespace), its state (IFF_UP and
// IFF_RUNNING) and MTU (0 if unknown), by index (0: none; also for other ports' interfaces).
std::string link_name(int ifindex);
bool link_up(int ifindex);
unsigned link_mtu(int ifindex);
// Reads (and so clears) a socket's pending error: a packet socket keeps its interface's ENETDOWN
// until something reads it, and polls EPOLLERR meanwhile.
void clear_socket_error(int fd) noexcept;
// Whether IFF_PROMISC is set on it (by a user or a program, not a packet socket's membership).
bool link_promisc(int ifindex);

// The bridge or bond that interface `ifname` (in the switch's namespace) is a port of; "" if
// none. master_problem() says why a port (`spec`) cannot be on such an interface ("" when it has
// no master): a bridge's port hands what it receives to the bridge as well, so both would
// forward the same frames.
std::string link_master(const std::string& ifname);
std::string master_problem(const std::string& spec, const std::string& ifname);

// Frames the kernel dropped because the socket's receive queue was full, since the last call
// (PACKET_STATISTICS, which restarts at each read; per socket, so per queue).
uint64_t link_drops_since(int fd);

}  // namespace tapswitch
