#include "base/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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

}  // namespace tapswitch
