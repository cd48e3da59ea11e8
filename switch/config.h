// SwitchConfig: everything tapswitch is told at start, from the command line and --config FILE.
//
// Every option can be given on the command line (--key value) or in the config file (key = value),
// with the same keys. The command line wins for single-valued options; `port` and `fdb-static`
// accumulate from both.
#pragma once

#include <rte_config.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fdb/fdb_static.h"
#include "ports/port_spec.h"
#include "switch/config_dataplane.h"

namespace tapswitch {

constexpr const char* kDefaultCtlPath = "/run/tapswitch/tapswitch.sock";

// Upper bounds of the sizing options (check_config() also holds the memory they imply to what
// the machine has).
constexpr unsigned kMaxMemoryMb = RTE_MAX_MEM_MB;  // DPDK's own limit: 512 GB
constexpr unsigned kMaxMbufs = 1u << 27;           // about 320 GB of 2.5 KB mbufs, within that
constexpr uint32_t kMaxFdbSize = 1u << 24;         // 16M entries, about 700 MB of table
constexpr uint32_t kMaxFdbAging = 1000000;         // seconds

struct SwitchConfig {
  std::vector<PortSpec> ports;
  std::string eal;                  // replaces the default EAL arguments when non-empty
  std::string ctl_path = kDefaultCtlPath;
  std::string ctl_group;            // empty: socket mode 0600; else 0660 and owned by this group
  std::string log_level = "info";
  unsigned memory_mb = 0;           // DPDK memory (-m) in the default EAL arguments; 0: Switch::memory_mb
  unsigned mbufs = 0;               // mbuf pool size; 0 = sized from the ports
  uint32_t fdb_size = 65536;        // FDB capacity in entries
  uint32_t fdb_aging = 300;         // seconds; 0 = never
  uint32_t fdb_port_limit = 0;      // MACs learned per port; 0 = no limit
  std::vector<FdbStaticSpec> fdb_static;
  TapIo tap_io = TapIo::automatic;  // raw-fd tap ports' I/O unless a port says io= (automatic:
                                    // chosen at start, resolve_tap_io())
  std::string config_file;
  DataplaneConfig dp;               // workers, CPUs, rx-queue placement, polling
};

struct ParsedArgs {
  enum class Action { run, help, version, check } action = Action::run;
  SwitchConfig config;
  std::string help;  // the --help text
};

// Parses argv and the config file it names. Throws Error with one line naming the problem:
// an unknown option, a bad value, an unreadable config file, a malformed or duplicate port.
ParsedArgs parse_args(int argc, const char* const* argv);

// Gives a raw-fd tap port without io= the global --tap-io `global` (dpdk: ports keep automatic).
void fill_tap_io(PortSpec& ps, TapIo global);
// The same for every port of the configuration.
void fill_tap_io(SwitchConfig& c);

// --tap-io auto: chooses uring or syscall by what a system call costs here
// (ports/tap_io_choice.h) and fills the ports; returns that cost in ns, for the log. Before the
// workers start. An explicit --tap-io stays (nullopt).
std::optional<double> resolve_tap_io(SwitchConfig& c);

}  // namespace tapswitch
