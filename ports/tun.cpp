#include "ports/tun.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/netns.h"

namespace tapswitch {

const char* to_string(TapOrigin origin) {
  switch (origin) {
    case TapOrigin::created: return "created";
    case TapOrigin::attached: return "attached";
    case TapOrigin::adopted: return "adopted";
  }
  return "?";
}

namespace {

// Reads /sys/class/net/NAME/tun_flags; -1 if NAME is not a tun/tap device (or absent).
long sysfs_tun_flags(const std::string& ifname) {
  std::ifstream in("/sys/class/net/" + ifname + "/tun_flags");
  std::string text;
  if (!(in >> text)) return -1;
  return std::strtol(text.c_str(), nullptr, 16);
}

}  // namespace

TapHandle open_tap(const std::string& spec, const std::string& ifname) {
  TapHandle h;
  h.ifname = ifname;
  bool existed = ::if_nametoindex(ifname.c_str()) != 0;
  if (existed) {
    long flags = sysfs_tun_flags(ifname);
    if (flags < 0) fail("port '{}': interface '{}' exists and is not a tap", spec, ifname);
    if (!(flags & IFF_TAP)) fail("port '{}': interface '{}' is a tun (layer 3), not a tap", spec, ifname);
    h.origin = TapOrigin::attached;
  }

  h.fd.reset(::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!h.fd) {
    int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
      fail("port '{}': {} does not exist; the kernel needs TUN/TAP support (CONFIG_TUN)", spec, kTunPath);
    if (e == EACCES || e == EPERM)
      fail("port '{}': no permission to open {} (run as root or with CAP_NET_ADMIN)", spec, kTunPath);
    fail("port '{}': cannot open {}: {}", spec, kTunPath, std::strerror(e));
  }

  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(h.fd.get(), TUNSETIFF, &ifr) != 0) {
    int e = errno;
    if (e == EBUSY) fail("port '{}': tap '{}' is already in use by another process", spec, ifname);
    if (e == EPERM || e == EACCES)
      fail("port '{}': no permission to {} tap '{}' (needs CAP_NET_ADMIN)", spec,
           existed ? "attach to" : "create", ifname);
    if (e == EINVAL && existed)
      fail("port '{}': tap '{}' exists with incompatible flags (multi-queue or tun mode)", spec, ifname);
    fail("port '{}': cannot {} tap '{}': {}", spec, existed ? "attach to" : "create", ifname,
         std::strerror(e));
  }
  return h;
}

TapHandle adopt_tap_fd(const std::string& spec, int fd) {
  if (::fcntl(fd, F_GETFD) < 0)
    fail("port '{}': fd {} is not open (was it passed to tapswitch?)", spec, fd);
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) != 0)
    fail("port '{}': fd {} is not an attached tun/tap device", spec, fd);
  if (!(ifr.ifr_flags & IFF_TAP)) fail("port '{}': fd {} is a tun (layer 3) device, not a tap", spec, fd);
  if (!(ifr.ifr_flags & IFF_NO_PI))
    fail("port '{}': fd {} carries packet information; open the tap with IFF_NO_PI", spec, fd);
  if (ifr.ifr_flags & IFF_VNET_HDR)
    fail("port '{}': fd {} has IFF_VNET_HDR, which this version does not accept", spec, fd);
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
    fail("port '{}': cannot make fd {} non-blocking: {}", spec, fd, std::strerror(errno));
  TapHandle h;
  h.fd.reset(fd);
  h.ifname = ifr.ifr_name;
  h.origin = TapOrigin::adopted;
  return h;
}

std::string tap_ifname(int fd) {
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) != 0) return {};
  return ifr.ifr_name;
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

bool tap_link_up(int fd) {
  std::string name = tap_ifname(fd);
  if (name.empty()) return false;
  UniqueFd ns(::ioctl(fd, TUNGETDEVNETNS));
  if (!ns) return false;
  short flags = 0;
  bool ok = run_in_netns(ns.get(), [&] {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
    flags = ifr.ifr_flags;
    return true;
  });
  return ok && (flags & IFF_UP) && (flags & IFF_RUNNING);
}

}  // namespace tapswitch
