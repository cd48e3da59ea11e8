// Static FDB entries as written in the configuration: `fdb-static = MAC,PORT[,VLAN]`.
//
// parse_fdb_static() checks the syntax only; PORT is a port name, resolved against the open
// ports when the switch starts (switch/switch.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tapswitch {

class Fdb;

struct FdbStaticSpec {
  std::string text;  // as given
  uint8_t mac[6]{};
  std::string port;
  uint16_t vlan = 0;
};

// Throws Error naming the spec and the problem: a malformed or non-unicast MAC, an empty
// port, a VLAN outside 0..4094, extra fields.
FdbStaticSpec parse_fdb_static(const std::string& text);

// Installs the entries; port_id maps a port name to its id (-1: no such port). Throws Error for
// an unknown port or a full table. Writer thread.
void add_static_entries(Fdb& fdb, const std::vector<FdbStaticSpec>& specs,
                        const std::function<int(const std::string&)>& port_id);

// Why `mac` (written `text`) cannot be a static entry, or "" if it can: only a unicast,
// non-zero MAC can.
std::string static_mac_problem(const uint8_t mac[6], std::string_view text);

// "02:00:00:00:00:0a" (or with '-'); false if malformed.
bool parse_mac(std::string_view text, uint8_t out[6]);

}  // namespace tapswitch
