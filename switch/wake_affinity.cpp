#include "switch/wake_affinity.h"

#include <rte_cycles.h>

#include <algorithm>

namespace tapswitch {

void WakeAffinity::start() noexcept {
  wander_ = away_ = foreign_ = stay_home_ = false;
  if (wake_cpus_.empty() || ::sched_getaffinity(0, sizeof home_, &home_) != 0) return;
  CPU_ZERO(&wide_);
  for (unsigned c : wake_cpus_) {
    if (c >= CPU_SETSIZE) continue;
    CPU_SET(c, &wide_);
    if (!CPU_ISSET(c, &home_)) wander_ = true;  // the wake set reaches beyond home
  }
}

void WakeAffinity::before_sleep() noexcept {
  if (!wander_ || away_ || stay_home_) return;
  if (::sched_setaffinity(0, sizeof wide_, &wide_) == 0)
    away_ = true;
  else
    wander_ = false;  // (a cpuset that shrank under us): stay home from now on
}

bool WakeAffinity::after_wake(uint64_t slept_ns) noexcept {
  woke_tsc_ = rte_rdtsc();
  if (stay_home_ && slept_ns >= kShortSleepNs) stay_home_ = false;
  if (!away_) return false;
  const int cpu = ::sched_getcpu();
  foreign_ = cpu >= 0 && !CPU_ISSET(static_cast<unsigned>(cpu), &home_);
  if (foreign_ && slept_ns > 0 && slept_ns < kShortSleepNs) {
    stay_home_ = true;
    go_home();
    return true;
  }
  return foreign_;
}

std::vector<unsigned> wake_set(const std::vector<unsigned>& process_cpus, const std::vector<unsigned>& worker_cpus,
                               bool leave_homes) {
  if (!leave_homes) return process_cpus;
  std::vector<unsigned> out;
  for (unsigned c : process_cpus)
    if (std::find(worker_cpus.begin(), worker_cpus.end(), c) == worker_cpus.end()) out.push_back(c);
  return out.empty() ? process_cpus : out;
}

void WakeAffinity::go_home() noexcept {
  if (!away_) return;
  ::sched_setaffinity(0, sizeof home_, &home_);
  away_ = foreign_ = false;
}

}  // namespace tapswitch
