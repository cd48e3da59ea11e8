#include "ports/net_tap_rx_kick.h"

#include <fcntl.h>
#include <signal.h>

#include <cerrno>
#include <cstring>

#include <spdlog/fmt/fmt.h>

namespace tapswitch {

NetTapRxKick NetTapRxKick::take_over(std::span<const int> rx_fds, std::string& why_not) {
  NetTapRxKick kick;
  if (rx_fds.empty()) {
    why_not = "no rx queue fds";
    return {};
  }
  // Check every fd before changing any: all or nothing.
  for (int fd : rx_fds) {
    const int flags = fd >= 0 ? ::fcntl(fd, F_GETFL) : -1;
    int signo = fd >= 0 ? ::fcntl(fd, F_GETSIG) : -1;
    if (flags < 0 || signo < 0) {
      why_not = fmt::format("fd {}: {}", fd, fd >= 0 ? std::strerror(errno) : "no fd");
      return {};
    }
    if (!(flags & O_ASYNC)) {
      why_not = fmt::format("fd {} does not signal its frames", fd);
      return {};
    }
    if (signo == 0) signo = SIGIO;  // F_GETSIG's 0 means the default, SIGIO
    struct sigaction sa {};
    if (::sigaction(signo, nullptr, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) || sa.sa_handler == SIG_DFL ||
        sa.sa_handler == SIG_IGN) {
      why_not = fmt::format("signal {} has no plain handler", signo);
      return {};
    }
    if (kick.handler_ && (kick.handler_ != sa.sa_handler || kick.signo_ != signo)) {
      why_not = "the queues signal differently";
      return {};
    }
    kick.handler_ = sa.sa_handler;
    kick.signo_ = signo;
  }
  for (int fd : rx_fds) {
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_ASYNC) != 0) {
      why_not = fmt::format("fd {}: {}", fd, std::strerror(errno));
      for (int f : rx_fds) ::fcntl(f, F_SETFL, ::fcntl(f, F_GETFL) | O_ASYNC);  // as it was
      return {};
    }
  }
  return kick;
}

}  // namespace tapswitch
