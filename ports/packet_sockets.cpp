#include "ports/packet_sockets.h"

#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace tapswitch {

std::vector<int> own_packet_sockets(unsigned ifindex) {
  std::vector<int> fds;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(e.path().filename().c_str());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_ll sll{};
    socklen_t len = sizeof sll;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sll), &len) != 0 || sll.sll_family != AF_PACKET) continue;
    if (static_cast<unsigned>(sll.sll_ifindex) == ifindex) fds.push_back(fd);
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

}  // namespace tapswitch
