// LinkMonitor: watches every port's link once a second, on the control thread.
//
//  - up/down changes are logged once each (info);
//  - a port whose interface was deleted (`ip link del`, a killed VM, a deleted namespace) is
//    logged once (warn), taken out of the data path and its FDB entries flushed; the other
//    ports keep forwarding. It stays listed in `show ports` as "gone" until `port del`.
//  - a `tap:NAME,recreate=on` port is then re-created under the same name and re-attached,
//    retried every tick until it works;
//  - a `link:NAME` port is attached again, with its counters, once an interface of that name
//    exists again (a VM restarted, its tap made anew by qemu), looked for every tick; so is
//    one added before its interface existed (Switch::add_port). If opening fails for another
//    reason (the interface came back as a bridge's port), that is logged once (warn).
// Which kinds can tell that their interface is gone: raw-fd taps (tap:, tapfd:), link: and
// net_tap ports. Others (af_packet, ...) only go down.
//
// Concurrency: control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tapswitch {

class Switch;

class LinkMonitor {
 public:
  explicit LinkMonitor(Switch& sw) : sw_(sw) {}
  void tick();

 private:
  enum class State { unknown, up, down, gone };
  Switch& sw_;
  std::map<uint16_t, State> last_;
  std::map<uint16_t, std::string> refused_;  // why a detached port could not open, as last logged
};

}  // namespace tapswitch
