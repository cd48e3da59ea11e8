#include "switch/config_check.h"

#include <grp.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "dpdk/eal_args.h"
#include "switch/counters.h"
#include "switch/ctl_server.h"
#include "switch/rxq_assign.h"
#include "switch/switch.h"

namespace tapswitch {

gid_t resolve_ctl_group(const std::string& name) {
  if (name.empty()) fail("--ctl-group: the group name is empty");
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (rc == 0 && found) return found->gr_gid;
  // A numeric gid is accepted too, as chgrp does.
  unsigned long gid = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
  if (ec == std::errc() && p == name.data() + name.size() && gid < 0xffffffffUL) return static_cast<gid_t>(gid);
  if (rc != 0 && rc != ENOENT && rc != ESRCH)
    fail("--ctl-group: cannot look up group '{}': {}", name, std::strerror(rc));
  fail("--ctl-group: there is no group named '{}'", name);
}

namespace {

void check_rxq_affinity(const SwitchConfig& c) {
  std::vector<PortQueues> pq;
  bool unlabelled = false;  // a tapfd port whose name is only known once its fd is opened
  uint16_t id = 0;
  for (const PortSpec& s : c.ports) {
    if (s.name.empty()) unlabelled = true;
    else pq.push_back({id, s.name, s.queues, s.queues, false});
    ++id;
  }
  std::vector<RxPin> pins;
  for (const RxqAffinity& a : c.dp.rxq_affinity) {
    const bool known = std::any_of(pq.begin(), pq.end(), [&](const PortQueues& q) { return q.name == a.port; });
    if (!known && unlabelled) continue;
    pins.push_back({a.port, a.queue, a.worker});
  }
  place_rx_queues(pq, c.dp.workers, pins);  // throws for an unknown port, queue or worker
}

// DPDK takes its memory up front; asked for more than the machine has, it fails at start,
// after reserving and touching what it could (seconds of CPU for a large pool).
void check_memory(const SwitchConfig& c, uint64_t machine_mb) {
  // The packet pool alone must fit in what --memory gives DPDK (the rest of the estimate is a
  // margin, so only this part is certain).
  const unsigned pool_mb = static_cast<unsigned>(Switch::pool_size(c) * 2.5 / 1024) + 1;
  if (c.memory_mb && pool_mb > c.memory_mb)
    fail("--memory: {} MB cannot hold the packet pool of {} mbufs (about {} MB; see --mbufs)", c.memory_mb,
         Switch::pool_size(c), pool_mb);
  if (!machine_mb) return;  // unknown
  if (c.memory_mb > machine_mb)
    fail("--memory: {} MB is more than this machine's memory ({} MB)", c.memory_mb, machine_mb);
  SwitchConfig sized = c;
  sized.memory_mb = 0;
  const unsigned dpdk_mb = Switch::memory_mb(sized), fdb_mb = Switch::fdb_memory_mb(c);
  if (dpdk_mb + fdb_mb > machine_mb)
    fail("the configuration needs about {} MB of memory ({} MB for DPDK: a pool of {} mbufs, see --mbufs, and {} "
         "port(s); {} MB for an FDB of {} entries), more than this machine's {} MB",
         dpdk_mb + fdb_mb, dpdk_mb, Switch::pool_size(c), c.ports.size(), fdb_mb, c.fdb_size, machine_mb);
}

}  // namespace

uint64_t machine_memory_mb() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20;
}

void check_config(const SwitchConfig& c, const std::vector<unsigned>& allowed_cpus, uint64_t machine_mb) {
  if (c.ports.size() > kMaxPorts) fail("too many ports: {} (at most {})", c.ports.size(), kMaxPorts);
  check_unique(c.ports);
  check_rxq_affinity(c);
  for (unsigned cpu : c.dp.cpus) {
    if (std::find(allowed_cpus.begin(), allowed_cpus.end(), cpu) == allowed_cpus.end())
      fail("--lcores: CPU {} is not one this process may run on (allowed: {})", cpu, format_cpuset(allowed_cpus));
  }
  if (!c.eal.empty()) {
    try {
      split_words(c.eal);
    } catch (const Error& e) {
      fail("--eal: {}", e.what());
    }
  }
  if (c.ctl_path.size() >= sizeof(sockaddr_un::sun_path))
    fail("--ctl: path '{}' is too long for a UNIX socket ({} bytes at most)", c.ctl_path,
         sizeof(sockaddr_un::sun_path) - 1);
  ctl_dir_to_make(c.ctl_path);  // throws what the start would
  if (!c.ctl_group.empty()) resolve_ctl_group(c.ctl_group);
  check_memory(c, machine_mb);
}

}  // namespace tapswitch
