// CPU sets as lists of CPU numbers, in ascending order.
#pragma once

#include <sched.h>

#include <vector>

namespace tapswitch {

// The CPUs in `set` (a cpu_set_t, as DPDK's rte_cpuset_t is on Linux).
inline std::vector<unsigned> cpus_of(const cpu_set_t& set) {
  std::vector<unsigned> cpus;
  for (unsigned c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// The CPUs the calling thread may run on (sched_getaffinity); {0} if they cannot be read.
inline std::vector<unsigned> thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = cpus_of(set);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace tapswitch
