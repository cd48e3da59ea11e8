// Replays a golden scenario through the real Forwarder and Fdb over fake ports, one frame at a
// time, reporting every mismatch as a GoogleTest failure at the scenario's file and line.
#pragma once

#include <string>

#include "tests/golden/scenario.h"

namespace tapswitch::test {

// After each frame: the exact egress ports, the egress bytes equal to the ingress bytes, the
// exact change of every port counter (rx/tx packets and bytes, flooded, each drop reason), and
// no mbuf held anywhere. At the end: the pool back to where it was before the scenario.
void replay(const Scenario& sc, const std::string& file);

}  // namespace tapswitch::test
