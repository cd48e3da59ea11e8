// The EAL command line tapswitch passes to DPDK.
//
// The defaults work on a machine with no hugepages and no NICs, and let several instances run
// side by side: --no-huge --no-pci --no-shconf, a per-instance --file-prefix, -m for memory, and
// an --lcores map (lcore 0 is the control thread, lcores 1..N are the workers).
//
// A user's --eal string replaces the defaults, except that tapswitch still adds its --lcores map
// when the string names no lcores (-l, -c, --lcores) and a per-instance --file-prefix when it
// names none.
#pragma once

#include <string>
#include <vector>

namespace tapswitch {

struct EalArgsInput {
  std::string user;                  // the --eal string; empty means "use the defaults"
  unsigned workers = 1;              // worker lcores besides the control lcore
  std::vector<unsigned> worker_cpus; // pin worker i to worker_cpus[i]; empty: float
  std::vector<unsigned> allowed_cpus;// CPUs this process may run on (sched_getaffinity)
  std::string file_prefix;           // unique per instance
  unsigned memory_mb = 512;
};

// Splits a string into words the way a shell would for plain words, 'single' and "double"
// quotes. Throws Error on an unterminated quote.
std::vector<std::string> split_words(const std::string& s);

// Formats a CPU set as an EAL cpuset: "0-3,6".
std::string format_cpuset(const std::vector<unsigned>& cpus);

// The full argv (without argv[0]) for rte_eal_init.
std::vector<std::string> build_eal_args(const EalArgsInput& in);

}  // namespace tapswitch
