#include "switch/control_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "switch/link_monitor.h"
#include "switch/telemetry.h"


namespace tapswitch {

namespace {
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);  // the terminal went away: stop cleanly too
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
  loop_.add(fdb.timer_fd(), EPOLLIN, [&](uint32_t) { fdb.on_timer(); });  // aging
  ctl_.attach(loop_, [this](const CtlRequest& r) { return commands_.dispatch(r); });
  CaptureManager& captures = sw_.capture_manager();
  ctl_.on_close([&captures](uint64_t client) { captures.client_closed(client); });
  loop_.set_dispatch_lock(&lock_);

  LinkMonitor links(sw_);
  Telemetry telemetry(commands_, lock_);
  if (ready) ready();
  auto last_tick = std::chrono::steady_clock::now();
  while (!got) {
    // Captures are written out every few milliseconds while they run.
    loop_.run_once(captures.active() ? 5 : 250);
    std::lock_guard held(lock_);  // like the event handlers: these change the switch too
    if (captures.active()) captures.poll();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::seconds(1)) {
      last_tick = now;
      links.tick();
      // Ports re-read what may change behind the switch's back (a kernel interface's MTU).
      for (const PortRecord* rec : sw_.ports()) rec->port->refresh();
    }
  }
  ctl_.on_close(nullptr);
  ctl_.detach();
  loop_.remove(fdb.timer_fd());
  loop_.remove(fdb.event_fd());
  loop_.remove(sfd.get());
  return got;
}

}  // namespace tapswitch
