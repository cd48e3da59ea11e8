#include "ports/tun.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "base/error.h"
#include "base/inherited_fds.h"
#include "base/netns.h"

namespace tapswitch {

const char* to_string(TapOrigin origin) {
  switch (origin) {
    case TapOrigin::created: return "created";
    case TapOrigin::attached: return "attached";
    case TapOrigin::adopted: return "adopted";
    case TapOrigin::link: return "link";
  }
  return "?";
}

bool TapOffloads::csum() const noexcept { return tun_f & TUN_F_CSUM; }
bool TapOffloads::tso4() const noexcept { return tun_f & TUN_F_TSO4; }
bool TapOffloads::tso6() const noexcept { return tun_f & TUN_F_TSO6; }
bool TapOffloads::uso() const noexcept { return (tun_f & kTunFUso4) && (tun_f & kTunFUso6); }

std::string TapOffloads::describe() const {
  if (!vnet()) return "off";
  std::string s;
  auto add = [&](bool on, const char* what) {
    if (on) s += (s.empty() ? "" : " ") + std::string(what);
  };
  add(csum(), "csum");
  add(tso4(), "tso4");
  add(tso6(), "tso6");
  add(uso(), "uso");
  return s.empty() ? "none" : s;
}

namespace {

// Offers the kernel the richest set of offloads it accepts; it answers EINVAL to a bit it does
// not know (USO before Linux 6.2), so each try drops the newest. Returns the accepted bits.
unsigned probe_offloads(const std::string& spec, int fd) {
  constexpr unsigned kTso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  for (unsigned want : {kTso | kTunFUso4 | kTunFUso6, kTso, unsigned{TUN_F_CSUM}, 0u}) {
    if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(want)) == 0) return want;
    if (errno != EINVAL) fail("port '{}': TUNSETOFFLOAD failed: {}", spec, std::strerror(errno));
  }
  fail("port '{}': the kernel refuses even TUNSETOFFLOAD 0", spec);
}

// Sets the offloads of a tap whose fd carries a virtio-net header: probed, or none.
unsigned setup_offloads(const std::string& spec, int fd, bool offload) {
  if (offload) return probe_offloads(spec, fd);
  if (::ioctl(fd, TUNSETOFFLOAD, 0ul) != 0)
    fail("port '{}': cannot turn offloads off (TUNSETOFFLOAD 0): {}", spec, std::strerror(errno));
  return 0;
}

ifreq ifreq_for(const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

// Reads /sys/class/net/NAME/tun_flags; -1 if NAME is not a tun/tap device (or absent).
long sysfs_tun_flags(const std::string& ifname) {
  std::ifstream in("/sys/class/net/" + ifname + "/tun_flags");
  std::string text;
  if (!(in >> text)) return -1;
  return std::strtol(text.c_str(), nullptr, 16);
}

}  // namespace

namespace {

UniqueFd open_tun_dev(const std::string& spec) {
  UniqueFd fd(::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
      fail("port '{}': {} does not exist; the kernel needs TUN/TAP support (CONFIG_TUN)", spec, kTunPath);
    if (e == EACCES || e == EPERM)
      fail("port '{}': no permission to open {} (run as root or with CAP_NET_ADMIN)", spec, kTunPath);
    fail("port '{}': cannot open {}: {}", spec, kTunPath, std::strerror(e));
  }
  return fd;
}

// Attaches one more queue to the multi-queue tap `ifname`, with the device's `flags`, from a
// /dev/net/tun opened in the network namespace `netns_fd` (the tap's; -1: this thread's), since
// the kernel looks the name up where the tun file was opened.
UniqueFd attach_queue(const std::string& spec, const std::string& ifname, short flags, int netns_fd) {
  UniqueFd q;
  int err = 0;
  auto attach = [&] {
    UniqueFd fd(::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC));
    ifreq ifr = ifreq_for(ifname);
    ifr.ifr_flags = flags;
    if (!fd || ::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
      err = errno;
      return false;
    }
    q = std::move(fd);
    return true;
  };
  bool ok = netns_fd < 0 ? attach() : run_in_netns(netns_fd, attach);
  if (!ok) {
    if (!err) err = errno;
    fail("port '{}': cannot open another queue of tap '{}': {}", spec, ifname, std::strerror(err));
  }
  return q;
}

// A port of ours that was just removed lets go of its tap at once when its worker released its
// queues (Port::rx_release). When it could not (the worker was stopped, or its ring failed),
// io_uring drops the tap file some 15-40 ms after the ring closes. Retries `busy` every 10 ms
// for up to 0.5 s, while it says the tap is still held; returns its last answer.
bool busy_for_a_moment(const std::function<bool()>& busy) {
  for (int tries = 0; tries < 50; ++tries) {
    if (!busy()) return false;
    ::usleep(10'000);
  }
  return busy();
}

// The tap's queue count as the kernel sees it (at least 1 even with none attached).
size_t sysfs_queue_count(const std::string& ifname) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
    if (e.path().filename().string().rfind("tx-", 0) == 0) ++n;
  return n;
}

}  // namespace

TapHandle open_tap(const std::string& spec, const std::string& ifname, bool offload, uint16_t queues) {
  TapHandle h;
  h.ifname = ifname;
  h.multi_queue = queues > 1;
  bool existed = ::if_nametoindex(ifname.c_str()) != 0;
  if (existed) {
    long flags = sysfs_tun_flags(ifname);
    if (flags < 0) fail("port '{}': interface '{}' exists and is not a tap", spec, ifname);
    if (!(flags & IFF_TAP)) fail("port '{}': interface '{}' is a tun (layer 3), not a tap", spec, ifname);
    h.multi_queue = flags & IFF_MULTI_QUEUE;
    if (queues > 1 && !h.multi_queue)
      fail("port '{}': tap '{}' exists as a single-queue tap, so it cannot give {} queues; create it with "
           "'ip tuntap add dev {} mode tap multi_queue', or drop queues=",
           spec, ifname, queues, ifname);
    h.origin = TapOrigin::attached;
  }

  h.fd = open_tun_dev(spec);
  ifreq ifr = ifreq_for(ifname);
  const short flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0) |
                                         (h.multi_queue ? IFF_MULTI_QUEUE : 0));
  ifr.ifr_flags = flags;
  // EBUSY can also be our own port of that name, just removed: wait a moment before saying
  // someone else holds it.
  int rc = 0;
  busy_for_a_moment([&] { return (rc = ::ioctl(h.fd.get(), TUNSETIFF, &ifr)) != 0 && errno == EBUSY; });
  if (rc != 0) {
    int e = errno;
    if (e == EBUSY) fail("port '{}': tap '{}' is already in use by another process", spec, ifname);
    if (e == EPERM || e == EACCES)
      fail("port '{}': no permission to {} tap '{}' (needs CAP_NET_ADMIN)", spec,
           existed ? "attach to" : "create", ifname);
    if (e == EINVAL && existed)
      fail("port '{}': tap '{}' exists with incompatible flags", spec, ifname);
    fail("port '{}': cannot {} tap '{}': {}", spec, existed ? "attach to" : "create", ifname,
         std::strerror(e));
  }
  // Only a persistent tap outlives its fds. An existing one that is not persistent was a
  // removed port's of our own, gone by the time TUNSETIFF made this one.
  ifreq now{};
  if (existed && ::ioctl(h.fd.get(), TUNGETIFF, &now) == 0 && !(now.ifr_flags & IFF_PERSIST))
    h.origin = TapOrigin::created;
  if (offload) {
    int len = kVnetHdrLen;
    if (::ioctl(h.fd.get(), TUNSETVNETHDRSZ, &len) != 0)
      fail("port '{}': cannot set the virtio-net header size: {}", spec, std::strerror(errno));
    h.offloads.vnet_hdr_len = kVnetHdrLen;
    h.offloads.tun_f = setup_offloads(spec, h.fd.get(), true);
  }
  // The header size and offloads belong to the device, so the other queues share them.
  for (uint16_t q = 1; q < queues; ++q) h.more_fds.push_back(attach_queue(spec, ifname, flags, -1));
  // More queues than ours: another process's, or those of our own port of that name, just
  // removed, for a moment.
  size_t held = 0;
  if (existed && h.multi_queue && busy_for_a_moment([&] { return (held = sysfs_queue_count(ifname)) > queues; }))
    fail("port '{}': multi-queue tap '{}' has queues held by another process ({} in all, {} of them ours)", spec,
         ifname, held, queues);
  return h;
}

TapHandle adopt_tap_fd(const std::string& spec, int inherited, bool offload, uint16_t queues) {
  if (std::string why = inherited_fds::unavailable(inherited); !why.empty()) fail("port '{}': {}", spec, why);
  // The port owns a duplicate; the inherited fd stays open until the port is in place.
  UniqueFd own(::fcntl(inherited, F_DUPFD_CLOEXEC, 3));
  if (!own) fail("port '{}': cannot duplicate fd {}: {}", spec, inherited, std::strerror(errno));
  const int fd = own.get();
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) != 0)
    fail("port '{}': fd {} is not an attached tun/tap device", spec, inherited);
  if (!(ifr.ifr_flags & IFF_TAP)) fail("port '{}': fd {} is a tun (layer 3) device, not a tap", spec, inherited);
  if (!(ifr.ifr_flags & IFF_NO_PI))
    fail("port '{}': fd {} carries packet information; open the tap with IFF_NO_PI", spec, inherited);
  TapOffloads off;
  if (ifr.ifr_flags & IFF_VNET_HDR) {
    int len = 0;
    if (::ioctl(fd, TUNGETVNETHDRSZ, &len) != 0)
      fail("port '{}': cannot read the virtio-net header size of fd {}: {}", spec, inherited,
           std::strerror(errno));
    if (len < 10 || len > 64)
      fail("port '{}': fd {} has a virtio-net header of {} bytes; expected 10 to 64", spec, inherited, len);
    int be = 0;
    if (::ioctl(fd, TUNGETVNETBE, &be) == 0 && be)
      fail("port '{}': fd {} uses big-endian virtio-net headers, which tapswitch does not read", spec, inherited);
    off.vnet_hdr_len = static_cast<uint8_t>(len);
    off.tun_f = setup_offloads(spec, fd, offload);
  }
  const bool multi = ifr.ifr_flags & IFF_MULTI_QUEUE;
  std::vector<UniqueFd> more;
  if (queues > 1) {
    if (!multi)
      fail("port '{}': fd {} is a single-queue tap, so it cannot give {} queues; open it with IFF_MULTI_QUEUE",
           spec, inherited, queues);
    UniqueFd ns(::ioctl(fd, TUNGETDEVNETNS));
    if (!ns)
      fail("port '{}': cannot find the network namespace of fd {}'s tap: {}", spec, inherited, std::strerror(errno));
    const short flags = static_cast<short>(ifr.ifr_flags & ~IFF_PERSIST);
    for (uint16_t q = 1; q < queues; ++q) more.push_back(attach_queue(spec, ifr.ifr_name, flags, ns.get()));
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
    fail("port '{}': cannot make fd {} non-blocking: {}", spec, inherited, std::strerror(errno));
  TapHandle h;
  h.fd = std::move(own);
  h.more_fds = std::move(more);
  h.ifname = ifr.ifr_name;
  h.origin = TapOrigin::adopted;
  h.offloads = off;
  h.multi_queue = multi;
  return h;
}

std::string tap_ifname(int fd) {
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) != 0) return {};
  return ifr.ifr_name;
}

uint64_t tap_netns(int fd) {
  UniqueFd ns(::ioctl(fd, TUNGETDEVNETNS));
  struct stat st {};
  return ns && ::fstat(ns.get(), &st) == 0 ? st.st_ino : 0;
}

int find_own_tun_fd(const std::string& ifname) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code ec2;
    auto target = std::filesystem::read_symlink(e.path(), ec2);
    if (ec2 || target != kTunPath) continue;
    int fd = std::atoi(e.path().filename().c_str());
    if (tap_ifname(fd) == ifname) return fd;
  }
  return -1;
}

bool TapIfControl::with(int tap_fd, const std::function<bool(int, const std::string&)>& fn) {
  std::string name = tap_ifname(tap_fd);
  if (name.empty()) return false;
  UniqueFd ns(::ioctl(tap_fd, TUNGETDEVNETNS));
  struct stat there {};
  if (!ns || ::fstat(ns.get(), &there) != 0) return false;
  if (there.st_ino == own_netns()) {  // (every namespace's nsfs inode is on the one nsfs device)
    if (!sock_) sock_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    return sock_ && fn(sock_.get(), name);
  }
  UniqueFd s(socket_in_netns(ns.get(), AF_INET, SOCK_DGRAM));
  return s && fn(s.get(), name);
}

bool TapIfControl::link_up(int tap_fd) {
  short flags = 0;
  bool ok = with(tap_fd, [&](int s, const std::string& name) {
    ifreq ifr = ifreq_for(name);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return false;
    flags = ifr.ifr_flags;
    return true;
  });
  return ok && (flags & IFF_UP) && (flags & IFF_RUNNING);
}

unsigned TapIfControl::mtu(int tap_fd) {
  unsigned mtu = 0;
  with(tap_fd, [&](int s, const std::string& name) {
    ifreq ifr = ifreq_for(name);
    if (::ioctl(s, SIOCGIFMTU, &ifr) != 0) return false;
    mtu = static_cast<unsigned>(ifr.ifr_mtu);
    return true;
  });
  return mtu;
}

int TapIfControl::set_mtu(int tap_fd, unsigned mtu) {
  int err = ENODEV;
  with(tap_fd, [&](int s, const std::string& name) {
    ifreq ifr = ifreq_for(name);
    ifr.ifr_mtu = static_cast<int>(mtu);
    err = ::ioctl(s, SIOCSIFMTU, &ifr) == 0 ? 0 : errno;
    return err == 0;
  });
  return err;
}

namespace {

// A route netlink socket made in the namespace the interface behind tap_fd lives in now (a
// netlink socket speaks for the namespace it was made in, wherever it is used), and the
// interface's index there. Returns 0 or an errno.
int rtnl_for_tap(int tap_fd, UniqueFd& nl, unsigned& index) {
  const std::string name = tap_ifname(tap_fd);
  if (name.empty()) return ENODEV;
  UniqueFd ns(::ioctl(tap_fd, TUNGETDEVNETNS));
  if (!ns) return errno;
  int err = 0;
  const bool made = run_in_netns(ns.get(), [&] {
    index = ::if_nametoindex(name.c_str());
    if (index != 0) nl.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    err = errno;
    return index != 0 && static_cast<bool>(nl);
  });
  return made ? 0 : (err ? err : EPERM);
}

// One request about link `index` (RTM_GETLINK or RTM_NEWLINK with at most one u32 attribute;
// the message is three fixed-size parts, too small to call for a library); the reply lands in
// `reply`. Returns 0 or an errno (a NLMSG_ERROR reply's own included).
int rtnl_link_request(int nl, uint16_t type, unsigned index, uint16_t attr, uint32_t value, char* reply,
                      size_t reply_size) {
  alignas(NLMSG_ALIGNTO) char req[NLMSG_SPACE(sizeof(ifinfomsg)) + RTA_SPACE(sizeof(uint32_t))] = {};
  auto* nh = reinterpret_cast<nlmsghdr*>(req);
  nh->nlmsg_len = attr ? sizeof req : NLMSG_SPACE(sizeof(ifinfomsg));
  nh->nlmsg_type = type;
  nh->nlmsg_flags = NLM_F_REQUEST | (type == RTM_NEWLINK ? NLM_F_ACK : 0);
  nh->nlmsg_seq = 1;
  auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(nh));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(index);
  if (attr) {
    auto* rta = reinterpret_cast<rtattr*>(req + NLMSG_SPACE(sizeof(ifinfomsg)));
    rta->rta_type = attr;
    rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
    std::memcpy(RTA_DATA(rta), &value, sizeof value);
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl, req, nh->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return errno;
  const ssize_t got = ::recv(nl, reply, reply_size, 0);
  if (got < 0) return errno;
  const auto* rh = reinterpret_cast<const nlmsghdr*>(reply);
  if (static_cast<size_t>(got) < sizeof(nlmsghdr) || !NLMSG_OK(rh, static_cast<unsigned>(got))) return EPROTO;
  if (rh->nlmsg_type == NLMSG_ERROR) {
    if (rh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return EPROTO;
    return -static_cast<const nlmsgerr*>(NLMSG_DATA(rh))->error;  // 0: the acknowledgement
  }
  return 0;
}

}  // namespace

int set_gso_max_size(int tap_fd, uint32_t bytes) {
  UniqueFd nl;
  unsigned index = 0;
  if (int e = rtnl_for_tap(tap_fd, nl, index)) return e;
  alignas(NLMSG_ALIGNTO) char reply[1024];
  return rtnl_link_request(nl.get(), RTM_NEWLINK, index, IFLA_GSO_MAX_SIZE, bytes, reply, sizeof reply);
}

int get_gso_max_size(int tap_fd, uint32_t& bytes) {
  UniqueFd nl;
  unsigned index = 0;
  if (int e = rtnl_for_tap(tap_fd, nl, index)) return e;
  std::vector<char> reply(32768);  // a link with all its attributes
  if (int e = rtnl_link_request(nl.get(), RTM_GETLINK, index, 0, 0, reply.data(), reply.size())) return e;
  const auto* nh = reinterpret_cast<const nlmsghdr*>(reply.data());
  if (nh->nlmsg_type != RTM_NEWLINK || nh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return EPROTO;
  int len = static_cast<int>(IFLA_PAYLOAD(nh));
  for (const rtattr* a = IFLA_RTA(static_cast<const ifinfomsg*>(NLMSG_DATA(nh))); RTA_OK(a, len);
       a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_GSO_MAX_SIZE && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
      std::memcpy(&bytes, RTA_DATA(a), sizeof bytes);
      return 0;
    }
  }
  return ENOENT;
}

bool tap_link_up(int fd) { return TapIfControl().link_up(fd); }

unsigned tap_mtu(int fd) { return TapIfControl().mtu(fd); }

void set_tap_mtu(const std::string& spec, int fd, unsigned mtu) {
  int err = TapIfControl().set_mtu(fd, mtu);
  if (err) fail("port '{}': cannot set the interface MTU to {}: {}", spec, mtu, std::strerror(err));
}

}  // namespace tapswitch
