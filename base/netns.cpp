#include "base/netns.h"

#include <sched.h>

#include <cerrno>
#include <thread>

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

}  // namespace tapswitch
