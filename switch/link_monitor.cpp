#include "switch/link_monitor.h"

#include <net/if.h>

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "base/error.h"
#include "ports/link_socket.h"
#include "switch/switch.h"

namespace tapswitch {

void LinkMonitor::tick() {
  std::map<uint16_t, State> now;
  for (const PortRecord* rec : sw_.ports()) {
    const uint16_t id = rec->id;
    State prev = last_.count(id) ? last_[id] : State::unknown;
    State st;
    if (rec->detached) {
      st = State::gone;
      // A link: port waits quietly until an interface of its name exists.
      const bool absent = rec->spec.kind == PortKind::link && ::if_nametoindex(rec->spec.ifname.c_str()) == 0;
      if ((rec->spec.recreate || rec->spec.kind == PortKind::link) && !absent) {
        try {
          sw_.reattach_port(id);
          spdlog::info("port {}: interface {}", rec->port->name(),
                       rec->spec.recreate ? "re-created and attached again" : "present, attached");
          st = State::unknown;  // logged as up or down on the next tick
          refused_.erase(id);
        } catch (const Error& e) {
          // The interface is there but cannot be attached (it came back as a bridge's port,
          // say): said once, and again only if the reason changes.
          const std::string why = e.what();
          if (std::exchange(refused_[id], why) != why)
            spdlog::warn("port {}: cannot attach: {}; trying again every second", rec->spec.name, why);
        }
      }
    } else {
      LinkState l = rec->port->link();
      st = l.gone ? State::gone : l.up ? State::up : State::down;
      if (st != State::gone && !l.master.empty()) {
        // Made a bridge's (or bond's) port after it attached: the master forwards its frames too,
        // and a second port of that bridge on the switch would loop. Detached like a deleted
        // interface, and attached again (by the branch above) once it leaves the bridge.
        sw_.detach_port(id);
        const size_t flushed = sw_.forget_port(id);
        // What each attach attempt will say: not said again until it changes.
        std::string why = master_problem(rec->spec.text, rec->spec.ifname);
        if (why.empty()) why = "its interface became a port of '" + l.master + "'";  // left it just now
        refused_[id] = why;
        spdlog::warn("port {}: detached, {} FDB entries flushed: {}; attaching again once it leaves", rec->port->name(),
                     flushed, why);
        st = State::gone;
      } else if (st == State::gone) {
        sw_.detach_port(id);  // first, so that nothing is learned on it after the flush
        const size_t flushed = sw_.forget_port(id);
        const char* next = rec->spec.recreate                 ? ", re-creating it"
                           : rec->spec.kind == PortKind::link ? ", attaching again when an interface of that name appears"
                                                              : " (port del removes it)";
        // A link: or af_packet port finds its interface in the switch's own namespace: one moved
        // to another namespace is gone from there too. A tap's fd (net_tap's too) follows it.
        const bool by_index = rec->spec.kind == PortKind::link ||
                              (rec->spec.kind == PortKind::dpdk && rec->spec.devargs.rfind("net_tap", 0) != 0);
        spdlog::warn("port {}: its interface was deleted{}; port detached, {} FDB entries flushed{}", rec->port->name(),
                     by_index ? " or moved to another network namespace" : "", flushed, next);
      } else if (st != prev && prev != State::unknown) {
        spdlog::info("port {}: link {}", rec->port->name(), st == State::up ? "up" : "down");
      }
    }
    now[id] = st;
  }
  std::erase_if(refused_, [&](const auto& kv) { return !now.count(kv.first); });  // removed ports
  last_ = std::move(now);
}

}  // namespace tapswitch
