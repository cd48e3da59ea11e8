// Parsing of --port SPEC strings.
//
//   tap:NAME[,key=val...]     raw-fd TAP by interface name (created if absent); recreate=on
//                             re-creates it if the interface is deleted under the switch
//   tapfd:N[,name=LABEL]      raw-fd TAP adopted from inherited file descriptor N
//   dpdk:DEVARGS[,queues=N]   any DPDK device, e.g. net_tap0,iface=vm2 or net_af_packet0,iface=vnet0;
//                             queues=N is tapswitch's and is taken out of the devargs (net_vhost
//                             keeps it too: it has a devarg of that name with the same meaning)
//
// parse_port_spec() checks syntax only (and names, which must fit IFNAMSIZ); whether the
// interface or fd exists is checked when the port opens.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ports/port.h"

namespace tapswitch {

struct PortSpec {
  PortKind kind = PortKind::tap;
  std::string text;                                        // the spec as given
  std::string name;                                        // port name (interface name if any)
  std::string ifname;                                      // kernel interface, if known up front
  int fd = -1;                                             // tapfd only
  bool recreate = false;                                   // tap: re-create the interface if it is deleted
  uint16_t queues = 1;                                     // rx queues == tx queues (queues=N)
  std::string devargs;                                     // dpdk only
  std::vector<std::pair<std::string, std::string>> opts;   // key=val options (tap, tapfd)

  const std::string* opt(const std::string& key) const;
};

// Throws Error with a message naming the spec and the problem.
PortSpec parse_port_spec(const std::string& text);

// Throws Error if two specs name the same port, interface, fd or DPDK device.
void check_unique(const std::vector<PortSpec>& specs);

constexpr size_t kMaxIfNameLen = 15;  // IFNAMSIZ - 1
constexpr uint16_t kMaxQueues = 16;   // per port

}  // namespace tapswitch
