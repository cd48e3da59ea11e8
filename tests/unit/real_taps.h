// For unit tests that open real taps: they need root and /dev/net/tun, and skip without them.
#pragma once

#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "base/unique_fd.h"

namespace tapswitch::test {

inline bool can_make_taps() { return ::geteuid() == 0 && ::access("/dev/net/tun", R_OK | W_OK) == 0; }

// Sends frames on an interface's kernel side through a packet socket: the kernel transmits them
// on the interface, so the tap (or net_tap) port behind it receives them. ok() is false when the
// socket could not be made or the interface does not exist.
class KernelSide {
 public:
  explicit KernelSide(const std::string& ifname) : sock_(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) {
    to_.sll_family = AF_PACKET;
    to_.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
    to_.sll_halen = 6;
    int sndbuf = 1 << 20;  // room for a few 64 KB frames in flight
    if (sock_) ::setsockopt(sock_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  bool ok() const { return sock_ && to_.sll_ifindex != 0; }
  ssize_t send(const void* data, size_t len) const {
    return ::sendto(sock_.get(), data, len, 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
  }

 private:
  UniqueFd sock_;
  sockaddr_ll to_{};
};

}  // namespace tapswitch::test

// First statement of a TEST that opens real taps.
#define SKIP_WITHOUT_TAPS() \
  if (!::tapswitch::test::can_make_taps()) GTEST_SKIP() << "needs root and /dev/net/tun to create taps"
