// Eal: owns the DPDK Environment Abstraction Layer for the life of the process.
//
// Construction runs rte_eal_init() with the given arguments. Whatever DPDK prints while it
// starts (its log lines, or a usage dump for bad arguments) is captured, not shown: on success
// the lines go to the debug log; on failure the constructor throws Error with one line naming
// the problem. After a successful start, DPDK's log is routed into spdlog (see log_bridge.h).
//
// `private_runtime_dir` says that the EAL's runtime directory (its --file-prefix) belongs to
// this process alone, as with tapswitch's per-instance prefix: then it is removed with all its
// contents when the EAL is destroyed or the process exits, even after a failed start; and the
// directories of the same form that killed processes left (their PID gone) are removed when it
// starts. Otherwise only an empty one is removed, since other DPDK processes may share it.
//
// Destruction runs rte_eal_cleanup(). Everything that uses DPDK (pools, rings, ports) must be
// destroyed first. Only one Eal may exist per process, and DPDK cannot be started twice.
#pragma once

#include <string>
#include <vector>

namespace tapswitch {

class Eal {
 public:
  explicit Eal(const std::vector<std::string>& args, bool private_runtime_dir = false);
  ~Eal();
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;

  const std::vector<std::string>& args() const { return args_; }

 private:
  std::vector<std::string> args_;
};

}  // namespace tapswitch
