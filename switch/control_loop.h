// ControlLoop: what the control thread does while the switch runs.
//
// It serves the control socket, applies the FDB's learn requests (it is the FDB's single
// writer), has every port refresh() about once a second, and ends on SIGINT or SIGTERM. Those
// signals must be blocked in every thread, which block_shutdown_signals() does when called
// before any thread (DPDK's included) is started.
#pragma once

#include "switch/commands.h"
#include "switch/ctl_server.h"
#include "switch/event_loop.h"
#include "switch/switch.h"

namespace tapswitch {

void block_shutdown_signals();

class ControlLoop {
 public:
  ControlLoop(Switch& sw, CtlServer& ctl);
  // Returns the signal that ended the loop.
  int run();

 private:
  Switch& sw_;
  CtlServer& ctl_;
  Commands commands_;
  EventLoop loop_;
};

}  // namespace tapswitch
