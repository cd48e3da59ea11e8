// The CPUs the calling thread may run on (sched_getaffinity), in ascending order; {0} if they
// cannot be read.
#pragma once

#include <sched.h>

#include <vector>

namespace tapswitch {

inline std::vector<unsigned> thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace tapswitch
