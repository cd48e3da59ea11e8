// ControlLoop: what the control thread does while the switch runs.
//
// It serves the control socket, applies the FDB's learn requests (it is the FDB's single
// writer), has every port refresh() about once a second, and ends on SIGINT, SIGTERM or SIGHUP. Those
// signals must be blocked in every thread, which block_shutdown_signals() does when called
// before any thread (DPDK's included) is started.
//
// It also attaches tapswitch's DPDK telemetry commands (switch/telemetry.h). Every event
// handler runs holding the control lock, which those commands take too.
#pragma once

#include <functional>
#include <mutex>

#include "switch/commands.h"
#include "switch/ctl_server.h"
#include "switch/event_loop.h"
#include "switch/switch.h"

namespace tapswitch {

void block_shutdown_signals();

class ControlLoop {
 public:
  ControlLoop(Switch& sw, CtlServer& ctl);
  // Returns the signal that ended the loop. `ready` runs once the control socket and
  // telemetry are served, before the first event.
  int run(const std::function<void()>& ready = {});

 private:
  Switch& sw_;
  CtlServer& ctl_;
  Commands commands_;
  std::mutex lock_;  // the control lock: held while handling each event (switch/telemetry.h)
  EventLoop loop_;
};

}  // namespace tapswitch
