// check_config(): what `tapswitch --check-config` verifies, and what tapswitch checks again
// before it starts anything.
//
// parse_args() already checks the syntax of every option and port spec, value ranges and
// duplicate ports. check_config() adds what needs the whole configuration or a look at the
// system, without opening, creating or starting anything (no EAL, no taps, no sockets):
//   - every --rxq-affinity names a configured port and a queue that port has (a pin naming an
//     unlabelled tapfd port cannot be checked before the fd is opened, and is let through);
//   - the port count is within the switch's limit;
//   - --lcores lists only CPUs this process may run on;
//   - --eal splits into words (balanced quotes);
//   - --ctl fits in a UNIX socket address, and --ctl-group names an existing group;
//   - --memory, and the memory the pool (--mbufs), the FDB (--fdb-size) and the ports need, fit
//     in the machine's memory (`machine_mb`, machine_memory_mb(); 0: not checked).
// Throws Error with one line naming the option and the problem.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "switch/config.h"

namespace tapswitch {

// The machine's physical memory in MB (0 if unknown).
uint64_t machine_memory_mb();

void check_config(const SwitchConfig& config, const std::vector<unsigned>& allowed_cpus,
                  uint64_t machine_mb = machine_memory_mb());

// The group id of a group name (or a number). Throws Error naming --ctl-group if unknown.
gid_t resolve_ctl_group(const std::string& name);

}  // namespace tapswitch
