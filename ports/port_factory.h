// Opening a port from its spec, whatever its kind.
#pragma once

#include <memory>

#include "dpdk/pkt_pool.h"
#include "ports/port.h"
#include "ports/port_spec.h"

namespace tapswitch {

// Throws Error with a message naming the spec and the reason.
std::unique_ptr<Port> open_port(const PortSpec& spec, PktPool& pool);

}  // namespace tapswitch
