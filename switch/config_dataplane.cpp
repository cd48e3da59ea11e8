#include "switch/config_dataplane.h"

#include <charconv>
#include <set>

#include "base/error.h"

namespace po = boost::program_options;

namespace tapswitch {

const char* to_string(PollMode m) { return m == PollMode::busy ? "busy" : "adaptive"; }
const char* to_string(WakeCpu w) {
  switch (w) {
    case WakeCpu::others: return "others";
    case WakeCpu::any: return "any";
    case WakeCpu::home: return "home";
  }
  return "?";
}

namespace {

bool parse_uint(const std::string& s, unsigned& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

po::typed_value<std::string>* uint_value() { return po::value<std::string>()->value_name("N"); }

po::typed_value<std::string>* uint_value(unsigned default_value) {
  return uint_value()->default_value(std::to_string(default_value));
}

unsigned uint_option(const po::variables_map& vm, const std::string& key, unsigned min, unsigned max,
                     const char* zero) {
  const std::string& text = vm[key].as<std::string>();
  unsigned v = 0;
  if (parse_uint(text, v) && ((v >= min && v <= max) || (zero && v == 0))) return v;
  if (zero) fail("--{}: '{}' is not a number from {} to {} (or 0: {})", key, text, min, max, zero);
  fail("--{}: '{}' is not a number from {} to {}", key, text, min, max);
}

po::options_description dataplane_options(unsigned line_length, unsigned min_desc) {
  po::options_description d("Data plane options", line_length, min_desc);
  // clang-format off
  d.add_options()
    ("workers", uint_value(),
       "worker lcores that forward frames, 1 to 64 (default 1, or the length of --lcores)")
    ("lcores", po::value<std::string>()->value_name("CPULIST"),
       "pin worker i to the i-th CPU of the list, e.g. 1 or 0-1 (default: workers float)")
    ("rxq-affinity", po::value<std::vector<std::string>>()->composing()->value_name("PORT:Q=W"),
       "give rx queue Q of port PORT to worker W, repeatable (default: round-robin)")
    ("poll", po::value<std::string>()->default_value("adaptive")->value_name("MODE"),
       "adaptive: sleep when idle and wake on the next frame; busy: always poll")
    ("wake-cpu", po::value<std::string>()->default_value("others")->value_name("WHERE"),
       "where a worker pinned by --lcores may be woken after an adaptive sleep: others: a CPU the "
       "process may use other than the workers' own (where the senders run); any: any CPU the "
       "process may use; home: only its own. Away, it returns home once traffic keeps it busy");
  // clang-format on
  return d;
}

std::vector<unsigned> parse_cpu_list(const std::string& s) {
  std::vector<unsigned> out;
  std::set<unsigned> seen;
  size_t start = 0;
  if (s.empty()) fail("--lcores: the CPU list is empty");
  for (;;) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma - start);
    size_t dash = item.find('-');
    unsigned lo = 0, hi = 0;
    bool ok = dash == std::string::npos ? parse_uint(item, lo) && (hi = lo, true)
                                        : parse_uint(item.substr(0, dash), lo) && parse_uint(item.substr(dash + 1), hi);
    if (!ok || lo > hi || hi >= 1024) fail("--lcores: '{}' is not a CPU list like 1 or 0-1,3", s);
    for (unsigned c = lo; c <= hi; ++c) {
      if (!seen.insert(c).second) fail("--lcores: CPU {} is listed twice in '{}'", c, s);
      out.push_back(c);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

RxqAffinity parse_rxq_affinity(const std::string& s) {
  RxqAffinity a;
  a.text = s;
  size_t colon = s.rfind(':'), eq = s.rfind('=');
  if (colon == std::string::npos || eq == std::string::npos || colon == 0 || eq < colon ||
      !parse_uint(s.substr(colon + 1, eq - colon - 1), a.queue) || !parse_uint(s.substr(eq + 1), a.worker))
    fail("--rxq-affinity: '{}' is not of the form PORT:QUEUE=WORKER, e.g. vm1:0=1", s);
  a.port = s.substr(0, colon);
  return a;
}

DataplaneConfig read_dataplane(const po::variables_map& vm) {
  DataplaneConfig c;
  if (vm.count("lcores")) c.cpus = parse_cpu_list(vm["lcores"].as<std::string>());
  if (vm.count("workers")) {
    c.workers = uint_option(vm, "workers", 1, kMaxWorkers);
    if (!c.cpus.empty() && c.cpus.size() != c.workers)
      fail("--lcores: {} CPUs listed for {} workers; list one CPU per worker", c.cpus.size(), c.workers);
  } else if (!c.cpus.empty()) {
    if (c.cpus.size() > kMaxWorkers) fail("--lcores: at most {} workers", kMaxWorkers);
    c.workers = static_cast<unsigned>(c.cpus.size());
  }
  if (vm.count("rxq-affinity")) {
    for (const auto& s : vm["rxq-affinity"].as<std::vector<std::string>>()) {
      RxqAffinity a = parse_rxq_affinity(s);
      if (a.worker >= c.workers)
        fail("--rxq-affinity: '{}' names worker {}, but there are only {} (0 to {})", s, a.worker, c.workers,
             c.workers - 1);
      for (const auto& b : c.rxq_affinity)
        if (b.port == a.port && b.queue == a.queue) fail("--rxq-affinity: queue {}:{} is given twice", a.port, a.queue);
      c.rxq_affinity.push_back(a);
    }
  }
  const std::string poll = vm["poll"].as<std::string>();
  if (poll == "adaptive") c.poll = PollMode::adaptive;
  else if (poll == "busy") c.poll = PollMode::busy;
  else fail("--poll: '{}' is not adaptive or busy", poll);
  const std::string wake = vm["wake-cpu"].as<std::string>();
  if (wake == "others") c.wake = WakeCpu::others;
  else if (wake == "any") c.wake = WakeCpu::any;
  else if (wake == "home") c.wake = WakeCpu::home;
  else fail("--wake-cpu: '{}' is not others, any or home", wake);
  return c;
}

}  // namespace tapswitch
