// Low-level /dev/net/tun handling for raw-fd TAP ports.
#pragma once

#include <string>

#include "base/unique_fd.h"

namespace tapswitch {

constexpr const char* kTunPath = "/dev/net/tun";

// How a tap port came to be, which decides what happens to the interface at exit.
enum class TapOrigin : uint8_t {
  created,   // the switch created it: the kernel deletes it when the switch closes its fd
  attached,  // a persistent tap existed: it stays after exit
  adopted,   // an fd inherited from the parent: closed at exit; the interface is the parent's
};
const char* to_string(TapOrigin origin);

struct TapHandle {
  UniqueFd fd;
  std::string ifname;
  TapOrigin origin = TapOrigin::created;
};

// Opens /dev/net/tun and creates or attaches the tap `ifname` (IFF_TAP | IFF_NO_PI), with the fd
// non-blocking. Throws Error naming the port spec and the reason (busy, not a tap, no
// permission, no /dev/net/tun).
TapHandle open_tap(const std::string& spec, const std::string& ifname);

// Takes over an inherited tun fd after checking that it is a TAP without packet information.
// The fd becomes non-blocking and close-on-exec. Throws Error otherwise.
TapHandle adopt_tap_fd(const std::string& spec, int fd);

// The current name of the interface behind a tap fd ("" if detached).
std::string tap_ifname(int fd);

// Finds a tun fd of this process attached to interface `ifname` (-1 if none). DPDK's net_tap
// keeps such fds; through one, the link state can be read even after the interface moved to
// another network namespace, where DPDK itself can no longer see it. Control plane only.
int find_own_tun_fd(const std::string& ifname);

// IFF_UP and IFF_RUNNING of the interface behind a tap fd, looked up in whichever network
// namespace the interface lives in now. Control plane only: it may start a short thread.
bool tap_link_up(int fd);

}  // namespace tapswitch
