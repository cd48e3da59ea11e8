// Golden scenarios: the text format of tests/golden/*.golden (see README.md there), parsed into
// steps the runner replays through the real Forwarder and Fdb.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "fdb/fdb_key.h"
#include "switch/counters.h"
#include "tests/unit/frames.h"

namespace tapswitch::test {

// One frame received on a port, and what must come of it.
struct FrameStep {
  uint16_t in = 0;                     // ingress port index
  std::vector<uint8_t> bytes;          // the whole frame, as received
  std::vector<uint16_t> out;           // exact egress ports, sorted; empty when dropped
  bool flood = false;                  // must be counted as flooded by the ingress port
  std::optional<DropReason> drop;      // must be dropped for this reason, counted at ingress
};

// The FDB must map (vlan, mac) to `port`, or hold nothing for it when port is kNoPort.
struct FdbCheck {
  Mac mac{};
  uint16_t vlan = 0;
  uint16_t port = 0;
};

// The FDB must hold exactly `entries` entries.
struct FdbCountCheck {
  uint64_t entries = 0;
};

struct Step {
  int line = 0;  // where it starts in the file
  std::variant<FrameStep, FdbCheck, FdbCountCheck> what;
};

struct Scenario {
  std::vector<std::string> ports;  // names; a port's index is its id
  std::vector<Step> steps;
};

// A syntax or consistency error, with "file:line: " in what().
class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a scenario; `name` prefixes error messages. Throws ScenarioError.
Scenario parse_scenario(std::istream& in, const std::string& name);
Scenario parse_scenario_file(const std::string& path);

}  // namespace tapswitch::test
