#include "switch/control_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "switch/telemetry.h"

namespace tapswitch {

namespace {
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void block_shutdown_signals() {
  sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

ControlLoop::ControlLoop(Switch& sw, CtlServer& ctl) : sw_(sw), ctl_(ctl), commands_(sw) {}

int ControlLoop::run(const std::function<void()>& ready) {
  sigset_t set = shutdown_signals();
  UniqueFd sfd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sfd) fail("signalfd: {}", std::strerror(errno));
  int got = 0;
  loop_.add(sfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo si{};
    if (::read(sfd.get(), &si, sizeof si) == sizeof si) got = static_cast<int>(si.ssi_signo);
  });
  Fdb& fdb = sw_.fdb();
  loop_.add(fdb.event_fd(), EPOLLIN, [&](uint32_t) { fdb.process_learning(); });
  ctl_.attach(loop_, [this](const CtlRequest& r) { return commands_.dispatch(r); });
  loop_.set_dispatch_lock(&lock_);
  Telemetry telemetry(commands_, lock_);
  if (ready) ready();

  while (!got) loop_.run_once(1000);
  ctl_.detach();
  loop_.remove(fdb.event_fd());
  loop_.remove(sfd.get());
  return got;
}

}  // namespace tapswitch
