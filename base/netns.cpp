#include "base/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "base/unique_fd.h"

namespace tapswitch {

bool run_in_netns(int netns_fd, const std::function<bool()>& fn) {
  bool ok = false;
  int err = 0;
  std::thread helper([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    ok = fn();
    err = errno;
  });
  helper.join();
  errno = err;
  return ok;
}

int socket_in_netns(int netns_fd, int domain, int type) {
  UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) return -1;
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return -1;
  const int s = ::socket(domain, type | SOCK_CLOEXEC, 0);
  const int err = errno;
  if (::setns(home.get(), CLONE_NEWNET) != 0) std::abort();  // a thread left in another namespace
  errno = err;
  return s;
}

uint64_t own_netns() {
  struct stat st {};
  return ::stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

std::string netns_label(uint64_t inode) {
  if (inode == own_netns()) return "";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0 && st.st_ino == inode) return e.path().filename();
  }
  return "net:[" + std::to_string(inode) + "]";
}

}  // namespace tapswitch
