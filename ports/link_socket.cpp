#include "ports/link_socket.h"

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <linux/if_tun.h>

#include "base/error.h"

namespace tapswitch {

namespace {

// Room for a burst of 64 KB GSO packets queued while the worker is busy elsewhere (the kernel's
// default, about 200 KB, holds three).
constexpr int kSocketBuffer = 8 << 20;

// PACKET_FANOUT_FLAG_IGNORE_OUTGOING (Linux 6.9; Debian 12's headers predate it).
constexpr int kFanoutIgnoreOutgoing = 0x4000;


// Grows a socket buffer beyond the sysctl limit when allowed (root), else as far as it goes.
void grow_buffer(int fd, int force_opt, int opt) {
  if (::setsockopt(fd, SOL_SOCKET, force_opt, &kSocketBuffer, sizeof kSocketBuffer) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, opt, &kSocketBuffer, sizeof kSocketBuffer);
}

bool ifreq_ioctl(int ifindex, unsigned long req, ifreq& ifr) {
  char name[IF_NAMESIZE] = {};
  if (!::if_indextoname(static_cast<unsigned>(ifindex), name)) return false;
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return false;
  ifr = {};
  std::memcpy(ifr.ifr_name, name, std::min(std::strlen(name), sizeof ifr.ifr_name - 1));
  return ::ioctl(s.get(), req, &ifr) == 0;
}

// One packet socket bound to the interface, with the virtio-net header, and promiscuous.
UniqueFd open_socket(const std::string& spec, const std::string& ifname, int ifindex) {
  // Protocol 0: nothing is received before the bind names the interface.
  UniqueFd sock(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!sock) {
    const int e = errno;
    if (e == EPERM || e == EACCES) fail("port '{}': no permission to open a packet socket (needs CAP_NET_RAW)", spec);
    fail("port '{}': cannot open a packet socket: {}", spec, std::strerror(e));
  }
  const int fd = sock.get();
  set_packet_opt(spec, fd, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
  set_packet_opt(spec, fd, PACKET_AUXDATA, 1, "PACKET_AUXDATA");
  set_packet_opt(spec, fd, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
  grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    fail("port '{}': cannot bind a packet socket to '{}': {}", spec, ifname, std::strerror(errno));
  packet_mreq mr{};
  mr.mr_ifindex = ifindex;
  mr.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
    fail("port '{}': cannot make '{}' promiscuous: {}", spec, ifname, std::strerror(errno));
  return sock;
}

// Puts the socket into fanout group `id` (0: a new group with an id the kernel picks, which is
// returned). Hash fanout: the kernel sends each flow to one socket of the group, always the
// same while the group stands.
// The group ignores what the host sends out of the interface where the kernel can (Linux 6.9 and
// later: PACKET_IGNORE_OUTGOING does not reach a group's sockets); ignore_outgoing says whether it
// did, and the later sockets must join with the same flags. recv_link_frame() skips such frames
// either way.
uint16_t join_fanout(const std::string& spec, int fd, uint16_t id, bool& ignore_outgoing) {
  auto join = [&](int type) {
    const int val = (type << 16) | id;
    return ::setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof val) == 0;
  };
  const int base = PACKET_FANOUT_HASH | (id == 0 ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
  bool ok = join(base | (ignore_outgoing ? kFanoutIgnoreOutgoing : 0));
  if (!ok && errno == EINVAL && ignore_outgoing && id == 0) {  // a kernel without the flag
    ignore_outgoing = false;
    ok = join(base);
  }
  if (!ok) fail("port '{}': cannot set PACKET_FANOUT on the packet socket: {}", spec, std::strerror(errno));
  int val = 0;
  socklen_t len = sizeof val;
  if (::getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &len) != 0)
    fail("port '{}': cannot read the packet socket's fanout group: {}", spec, std::strerror(errno));
  return static_cast<uint16_t>(val & 0xffff);
}

}  // namespace

void set_packet_opt(const std::string& spec, int fd, int name, const void* value, socklen_t len, const char* what) {
  if (::setsockopt(fd, SOL_PACKET, name, value, len) != 0)
    fail("port '{}': cannot set {} on the packet socket: {}", spec, what, std::strerror(errno));
}

TapHandle open_link(const std::string& spec, const std::string& ifname, uint16_t queues) {
  const unsigned ifindex = ::if_nametoindex(ifname.c_str());
  if (ifindex == 0) fail("port '{}': there is no interface named '{}' in the switch's network namespace", spec, ifname);
  ifreq ifr{};
  if (!ifreq_ioctl(static_cast<int>(ifindex), SIOCGIFHWADDR, ifr))
    fail("port '{}': cannot read interface '{}': {}", spec, ifname, std::strerror(errno));
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    fail("port '{}': interface '{}' is not an Ethernet interface (hardware type {})", spec, ifname,
         ifr.ifr_hwaddr.sa_family);
  // A bridge's (or bond's) port hands what it receives to its master as well: both would forward
  // the same frames, and a second port of that bridge on the switch would make a loop.
  if (std::string why = master_problem(spec, ifname); !why.empty()) fail("{}", why);

  TapHandle h;
  h.ifname = ifname;
  h.ifindex = static_cast<int>(ifindex);
  h.origin = TapOrigin::link;
  h.offloads.vnet_hdr_len = kPacketVnetHdrLen;
  // What the kernel takes back on send (virtio_net_hdr_to_skb): partial checksums and TCP GSO
  // on any kernel; UDP GSO only on newer ones, so the switch segments it instead.
  h.offloads.tun_f = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  h.fd = open_socket(spec, ifname, h.ifindex);
  if (queues > 1) {
    bool ignore_outgoing = true;
    const uint16_t group = join_fanout(spec, h.fd.get(), 0, ignore_outgoing);
    for (uint16_t q = 1; q < queues; ++q) {
      h.more_fds.push_back(open_socket(spec, ifname, h.ifindex));
      join_fanout(spec, h.more_fds.back().get(), group, ignore_outgoing);
    }
  }
  // What arrived between bind and now is not the port's loss.
  for (uint16_t q = 0; q < h.queues(); ++q) (void)link_drops_since(h.queue_fd(q));
  return h;
}

ssize_t recv_link_one(int fd, uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci, bool& outgoing) noexcept {
  iovec iov{buf, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  sockaddr_ll from{};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t r = ::recvmsg(fd, &msg, MSG_TRUNC);
  tpid = tci = 0;
  outgoing = false;
  if (r <= 0) return r;
  outgoing = from.sll_pkttype == PACKET_OUTGOING;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
        c->cmsg_len < CMSG_LEN(sizeof(tpacket_auxdata)))
      continue;
    tpacket_auxdata aux;
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    kept_vlan(aux.tp_status, aux.tp_vlan_tci, aux.tp_vlan_tpid, tpid, tci);
  }
  return r;
}

ssize_t recv_link_frame(int fd, uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci) noexcept {
  bool outgoing = false;
  ssize_t r;
  do  // past what the host sent out of the interface (a fanout group may not hide it)
    r = recv_link_one(fd, buf, len, tpid, tci, outgoing);
  while (r > 0 && outgoing);
  return r;
}

std::string link_master(const std::string& ifname) {
  std::error_code ec;
  const auto master = std::filesystem::read_symlink("/sys/class/net/" + ifname + "/master", ec);
  return ec ? std::string() : master.filename().string();
}

std::string master_problem(const std::string& spec, const std::string& ifname) {
  const std::string master = link_master(ifname);
  if (master.empty()) return {};
  return fmt::format("port '{}': interface '{}' is a port of '{}' (a bridge or bond), which forwards its frames too; "
                     "take it out first (ip link set {} nomaster)",
                     spec, ifname, master, ifname);
}

std::string link_name(int ifindex) {
  char name[IF_NAMESIZE] = {};
  return ::if_indextoname(static_cast<unsigned>(ifindex), name) ? std::string(name) : std::string();
}

bool link_up(int ifindex) {
  ifreq ifr{};
  return ifreq_ioctl(ifindex, SIOCGIFFLAGS, ifr) && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

void clear_socket_error(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
}

bool link_promisc(int ifindex) {
  ifreq ifr{};
  return ifreq_ioctl(ifindex, SIOCGIFFLAGS, ifr) && (ifr.ifr_flags & IFF_PROMISC);
}

unsigned link_mtu(int ifindex) {
  ifreq ifr{};
  return ifreq_ioctl(ifindex, SIOCGIFMTU, ifr) ? static_cast<unsigned>(ifr.ifr_mtu) : 0;
}

uint64_t link_drops_since(int fd) {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
  return st.tp_drops;
}

}  // namespace tapswitch
