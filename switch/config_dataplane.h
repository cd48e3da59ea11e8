// The data-plane part of the configuration: workers, their CPUs, rx-queue placement and polling.
//
//   --workers N                 worker lcores (default 1); the control thread runs besides them
//   --lcores CPULIST            pin worker i to the i-th CPU of the list (e.g. "1" or "0-1");
//                               without --workers, the list's length is the worker count
//   --rxq-affinity PORT:Q=W     give rx queue Q of port PORT to worker W (repeatable)
//   --poll adaptive|busy        adaptive (default): sleep when idle, wake on the next frame;
//                               busy: always poll
//   --wake-cpu others|any|home  where a pinned adaptive worker may be woken: a CPU the process
//                               may use other than the workers' own (default), any CPU the
//                               process may use, or only its own (away, it goes back home once
//                               traffic keeps it busy)
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace tapswitch {

enum class PollMode { adaptive, busy };
const char* to_string(PollMode m);

// Where a worker pinned by --lcores may run after it sleeps (adaptive polling only). Waking a
// halted vCPU costs 30-100+ us here; the CPU that sent the frame is awake, so `others` and `any`
// let the kernel wake the worker there and send it home after kHomeAfterUs of traffic
// (switch/wake_affinity.h, switch/worker.h).
enum class WakeCpu { others, any, home };
const char* to_string(WakeCpu w);

struct RxqAffinity {
  std::string port;
  unsigned queue = 0;
  unsigned worker = 0;
  std::string text;  // as given, for messages
};

struct DataplaneConfig {
  unsigned workers = 1;
  std::vector<unsigned> cpus;  // worker i runs on cpus[i]; empty: float over allowed CPUs
  std::vector<RxqAffinity> rxq_affinity;
  PollMode poll = PollMode::adaptive;
  WakeCpu wake = WakeCpu::others;
  // Not an option: the CPUs the process may use, as found at startup before DPDK pins its
  // threads (what a sleeping worker's wake set is made from, see wake_set()).
  std::vector<unsigned> process_cpus;
};

constexpr unsigned kMaxWorkers = 64;

boost::program_options::options_description dataplane_options(unsigned line_length, unsigned min_desc);

// The declaration of an option holding an unsigned number: Boost's own unsigned values take
// "-1" for 4294967295, so these keep the text and uint_option() reads it.
boost::program_options::typed_value<std::string>* uint_value();
boost::program_options::typed_value<std::string>* uint_value(unsigned default_value);
// The value of option `key`, declared with uint_value(): a number from min to max, or 0 too if
// `zero` says what 0 means. Throws Error "--KEY: 'TEXT' is not a number from MIN to MAX[ (or
// 0: ZERO)]".
unsigned uint_option(const boost::program_options::variables_map& vm, const std::string& key, unsigned min,
                     unsigned max, const char* zero = nullptr);

// Throws Error naming the option and the problem.
DataplaneConfig read_dataplane(const boost::program_options::variables_map& vm);
// "0-2,5" -> {0,1,2,5}; throws Error on bad syntax.
std::vector<unsigned> parse_cpu_list(const std::string& s);
RxqAffinity parse_rxq_affinity(const std::string& s);

}  // namespace tapswitch
