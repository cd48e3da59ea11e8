// A randomized robustness test of what operators feed tapswitch: port specs (parse_port_spec),
// the command line and the config file (parse_args), the control commands (Commands::dispatch
// on a Switch with DPDK null ports) and the control socket's framing (CtlServer).
//
// Inputs are valid ones mutated (tokens swapped, dropped, doubled, truncated; keys doubled or
// missing; huge, negative and overflowing numbers; NUL, newline, control and UTF-8 bytes; long
// names; '=', ',' and ':' in odd places; unknown keys) and pure random bytes, from fixed seeds.
// The invariants:
//   - only tapswitch::Error escapes (anything else fails the test, the input printed);
//   - an error message is one line, not empty, without control characters (and valid UTF-8
//     when the input was);
//   - a failed command leaves the switch as it was (ports, FDB, counters, captures, DPDK
//     devices, the log level);
//   - a spec that parses holds its documented ranges and re-parses the same from the text the
//     switch shows for it (show ports' "spec");
//   - every case ends in bounded time (a watchdog aborts a hanging case, naming its input).
//
// `port add` is dispatched only for specs that cannot succeed or name a dpdk:net_null device
// (nothing creates a kernel interface), and captures write to files in a temporary directory.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "ports/port_spec.h"
#include "switch/commands.h"
#include "switch/config.h"
#include "switch/config_check.h"
#include "switch/ctl_server.h"
#include "switch/event_loop.h"
#include "switch/switch.h"
#include "tests/unit/args_util.h"

namespace tapswitch {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Helpers: showing inputs, checking messages, bounding cases.

// Bytes as a C string literal would show them (long ones cut), for failure messages.
std::string shown(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 240; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == '"') out += fmt::format("\\{}", static_cast<char>(c));
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  out += '"';
  if (s.size() > 240) out += fmt::format("...({} bytes)", s.size());
  return out;
}

std::string shown(const std::vector<std::string>& v) {
  std::string out = "{";
  for (const auto& a : v) out += (out.size() > 1 ? ", " : "") + shown(a);
  return out + "}";
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 99;
    if (n == 99 || (n == 1 && c < 0xc2) || i + n >= s.size() + (n ? 0 : 1)) return false;
    uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

// What is wrong with an error message, or "": it must be one printable line, not empty: valid
// UTF-8 (whatever the input was) without control characters (C0, DEL, C1) or U+2028/U+2029.
std::string message_problem(const std::string& m) {
  if (m.empty()) return "the error message is empty";
  if (!valid_utf8(m)) return "the error message is not valid UTF-8";
  for (size_t i = 0; i < m.size(); ++i) {
    const auto c = static_cast<unsigned char>(m[i]);
    if (c < 0x20 || c == 0x7f) return fmt::format("the error message has the control byte \\x{:02x} at {}", c, i);
    if (c == 0xc2 && i + 1 < m.size() && static_cast<unsigned char>(m[i + 1]) < 0xa0)
      return fmt::format("the error message has a C1 control character at {}", i);
    if (m.compare(i, 3, "\xe2\x80\xa8") == 0 || m.compare(i, 3, "\xe2\x80\xa9") == 0)
      return fmt::format("the error message has a line separator at {}", i);
  }
  return "";
}

// Aborts the program, naming the case, if a case runs longer than `limit` (a hang would
// otherwise stop the whole test binary without a word).
class Watchdog {
 public:
  explicit Watchdog(std::chrono::milliseconds limit) : limit_(limit), thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void arm(std::string what) {
    std::lock_guard lock(mutex_);
    what_ = std::move(what);
    since_ = Clock::now();
    armed_ = true;
  }
  // Returns how long the case took.
  std::chrono::microseconds disarm() {
    std::lock_guard lock(mutex_);
    armed_ = false;
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since_);
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
      cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (armed_ && Clock::now() - since_ > limit_) {
        std::fprintf(stderr, "InputFuzz: a case has run for over %lld ms: %s\n",
                     static_cast<long long>(limit_.count()), what_.c_str());
        std::abort();
      }
    }
  }
  std::chrono::milliseconds limit_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool quit_ = false, armed_ = false;
  std::string what_;
  Clock::time_point since_;
  std::thread thread_;
};

constexpr auto kCaseLimit = std::chrono::milliseconds(5000);  // the watchdog's
constexpr auto kSlowCase = std::chrono::microseconds(500000);  // reported as a failure

// Runs one case under the watchdog; fails the test if it is slow.
template <typename F>
void bounded(Watchdog& dog, const std::string& what, F&& f) {
  dog.arm(what);
  f();
  const auto took = dog.disarm();
  EXPECT_LT(took, kSlowCase) << "slow case (" << took.count() << " us): " << what;
}

// ---------------------------------------------------------------------------------------------
// Mutation.

class Mutator {
 public:
  explicit Mutator(uint32_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng_) : 0; }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  // Random bytes; no NUL unless `nul`; only valid UTF-8 (any code point, controls included) if `utf8`.
  std::string bytes(size_t max_len, bool nul, bool utf8 = false) {
    std::string s;
    const size_t n = below(max_len + 1);
    while (s.size() < n) {
      if (utf8) {
        const uint32_t cp = chance(0.7) ? static_cast<uint32_t>(below(0x80))
                            : chance(0.5) ? static_cast<uint32_t>(0x80 + below(0x780))
                                          : static_cast<uint32_t>(0x800 + below(0xd800 - 0x800));
        if (cp == 0 && !nul) continue;
        append_utf8(s, cp);
      } else {
        const char c = static_cast<char>(below(256));
        if (c == 0 && !nul) continue;
        s += c;
      }
    }
    return s;
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | cp >> 6);
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xe0 | cp >> 12);
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // One to `rounds` random edits of `s`; `dict` offers tokens of the input's language.
  std::string mutate(std::string s, const std::vector<std::string>& dict, unsigned rounds, bool nul = true) {
    const unsigned n = 1 + static_cast<unsigned>(below(rounds));
    for (unsigned i = 0; i < n; ++i) edit(s, dict, nul);
    return s;
  }

 private:
  // Tokens: runs between the separators , = : and blanks.
  std::vector<std::pair<size_t, size_t>> tokens(const std::string& s) {
    std::vector<std::pair<size_t, size_t>> t;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || std::string_view(",=: ").find(s[i]) != std::string_view::npos) {
        if (i > start) t.emplace_back(start, i - start);
        start = i + 1;
      }
    }
    return t;
  }

  std::string special(bool nul) {
    static const std::vector<std::string> kSpecial = {
        std::string(1, '\0'), "\n", "\r", "\t", "\x1b[2J", "\x7f", "\xff", "\xc3", "\xc3\xa9", "\xe2\x80\xa8",
        "\xef\xbb\xbf", " ", "  ", "%", "%d", "/", "\\", "\"", "'", "#", "[", "]", "{", "}", ";", "\x01", "\x08", "\xc2\x85"};
    std::string s = pick(kSpecial);
    return !nul && s[0] == '\0' ? "\x01" : s;
  }

  std::string number() {
    static const std::vector<std::string> kNumbers = {
        "0", "1", "2", "-1", "-0", "+5", "3", "15", "16", "17", "64", "65", "67", "68", "1500", "9000", "4094", "4095",
        "4096", "65520", "65521", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
        "18446744073709551615", "18446744073709551616", "99999999999999999999", "0x10", "1e3", " 5", "5 ", "007",
        "00000000000000000000001", "1.5", "-99999999999999999999", ""};
    return pick(kNumbers);
  }

  void edit(std::string& s, const std::vector<std::string>& dict, bool nul) {
    const auto tok = tokens(s);
    const size_t pos = below(s.size() + 1);
    switch (below(16)) {
      case 0: s.resize(below(s.size() + 1)); break;  // truncate
      case 1: {                                       // delete a range
        const size_t len = below(s.size() - pos + 1);
        s.erase(pos, len);
        break;
      }
      case 2: {  // double a range
        const size_t len = below(std::min<size_t>(s.size() - pos, 40) + 1);
        s.insert(pos, s.substr(pos, len));
        break;
      }
      case 3: s.insert(pos, pick(dict)); break;
      case 4:  // a token replaced by a word of the language
        if (!tok.empty()) {
          const auto [b, l] = pick(tok);
          s.replace(b, l, pick(dict));
        }
        break;
      case 5:  // two tokens swapped
        if (tok.size() >= 2) {
          auto a = pick(tok), b = pick(tok);
          if (a.first > b.first) std::swap(a, b);
          if (a.first + a.second <= b.first) {
            const std::string ta = s.substr(a.first, a.second), tb = s.substr(b.first, b.second);
            s.replace(b.first, b.second, ta);
            s.replace(a.first, a.second, tb);
          }
        }
        break;
      case 6: s.insert(pos, special(nul)); break;
      case 7: s.insert(pos, pick(std::vector<std::string>{",", "=", ":", ",,", "==", ":,", "=,", ",=", "::"})); break;
      case 8:  // a token replaced by an odd number
        if (!tok.empty()) {
          const auto [b, l] = pick(tok);
          s.replace(b, l, number());
        } else {
          s.insert(pos, number());
        }
        break;
      case 9: {  // a long run
        const size_t len = 14 + below(chance(0.2) ? 70000 : 300);
        s.insert(pos, std::string(len, chance(0.5) ? 'a' : static_cast<char>('0' + below(10))));
        break;
      }
      case 10: s.clear(); break;
      case 11:
        if (!s.empty()) s[below(s.size())] = static_cast<char>(nul ? below(256) : 1 + below(255));
        break;
      case 12: {  // a ",key=value" part doubled, or a key=value added
        const size_t comma = s.find(',', below(s.size() + 1));
        if (comma != std::string::npos) {
          const size_t end = s.find(',', comma + 1);
          s += s.substr(comma, end == std::string::npos ? std::string::npos : end - comma);
        } else {
          s += "," + pick(dict) + "=" + (chance(0.5) ? pick(dict) : number());
        }
        break;
      }
      case 13:  // the value of a key=value taken away or emptied
        if (const size_t eq = s.find('=', below(s.size() + 1)); eq != std::string::npos) {
          const size_t end = s.find(',', eq);
          s.erase(chance(0.5) ? eq : eq + 1, end == std::string::npos ? std::string::npos : end - eq - (chance(0.5) ? 0 : 1));
        }
        break;
      case 14: s.insert(pos, bytes(8, nul)); break;
      case 15: s.insert(pos, number()); break;
    }
    if (!nul) std::replace(s.begin(), s.end(), '\0', '\x01');
  }

  std::mt19937 rng_;
};

// ---------------------------------------------------------------------------------------------
// (1) Port specs.

const std::vector<std::string> kSpecSeeds = {
    "tap:vm1",
    "tap:vm1,queues=2,offload=off,mtu=9000,io=uring,recreate=on",
    "tap:t0,io=syscall,offload=on",
    "tapfd:5",
    "tapfd:7,name=guest,offload=on,mtu=1500,io=syscall,queues=3",
    "link:vnet0",
    "link:veth-a,queues=4,ring=off",
    "dpdk:net_null0",
    "dpdk:net_null3,size=64,queues=2,mtu=9000,offload=on",
    "dpdk:net_tap0,iface=vm2,queues=2,mtu=1500",
    "dpdk:net_vhost0,iface=/tmp/vm.sock,queues=2,offload=off,tso=1",
    "dpdk:eth_vhost1,iface=/run/x.sock",
    "dpdk:net_af_packet0,iface=eth0,qpairs=1",
};

const std::vector<std::string> kSpecWords = {
    "tap", "tapfd", "link", "dpdk", "net_null0", "net_null1", "net_tap0", "net_vhost0", "eth_vhost1",
    "net_af_packet0", "iface", "queues", "mtu", "offload", "io", "recreate", "ring", "name", "on", "off",
    "uring", "syscall", "auto", "vm1", "%d", "..", ".", "/", "size", "copy", "qpairs", "tso", "colour", "ON", "tap:",
    "dpdk:", "queues=16", "queues=17", "mtu=65521", "mtu=65535", "iface=vm1", "name=a"};

// What is wrong with a spec that parsed, or "": the documented ranges, and that the text the
// switch keeps (and shows as "spec") parses to the same spec (but for io=, which the global
// --tap-io fills in when `io_filled`).
std::string spec_problem(const PortSpec& ps, bool io_filled = false) {
  auto ifname_ok = [](const std::string& n) {
    if (n.empty() || n.size() > kMaxIfNameLen || n == "." || n == "..") return false;
    for (char c : n)
      if (c <= ' ' || c > '~' || c == '/' || c == ':' || c == ',' || c == '=' || c == '%') return false;
    return true;
  };
  for (char c : ps.text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a control character was accepted";
  if (ps.queues < 1 || ps.queues > kMaxQueues) return fmt::format("queues {} out of range", ps.queues);
  if (ps.mtu != 0 && (ps.mtu < kMinMtu || ps.mtu > kMaxMtu)) return fmt::format("mtu {} out of range", ps.mtu);
  switch (ps.kind) {
    case PortKind::tap:
    case PortKind::link:
      if (!ifname_ok(ps.ifname) || ps.name != ps.ifname) return "bad interface name '" + ps.ifname + "'";
      if (ps.mtu > kMaxTapMtu) return "a tap's mtu over 65521";
      break;
    case PortKind::tapfd:
      if (ps.fd <= 2) return fmt::format("fd {}", ps.fd);
      if (!ps.name.empty() && !ifname_ok(ps.name)) return "bad name '" + ps.name + "'";
      if (ps.mtu > kMaxTapMtu) return "a tap's mtu over 65521";
      break;
    case PortKind::dpdk:
      if (ps.name.empty() || ps.devargs.empty()) return "a dpdk port without a name or devargs";
      if (!ps.ifname.empty() && !ifname_ok(ps.ifname)) return "bad iface '" + ps.ifname + "'";
      for (const char* own : {",mtu=", ",offload="})
        if (ps.devargs.find(own) != std::string::npos) return std::string("devargs keep tapswitch's ") + (own + 1);
      break;
  }
  // The same option twice is refused (as for taps): the driver and tapswitch could each take
  // a different one of the two.
  {
    std::set<std::string> keys;
    const std::string body = ps.text.substr(ps.text.find(':') + 1);
    size_t start = body.find(',');
    while (start != std::string::npos) {
      const size_t end = body.find(',', start + 1);
      const std::string kv = body.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
      const std::string key = kv.substr(0, kv.find('='));
      if (kv.find('=') != std::string::npos && !keys.insert(key).second &&
          (ps.kind != PortKind::dpdk || key == "queues" || key == "iface" || key == "mtu" || key == "offload"))
        return "option '" + key + "' given twice was accepted";
      start = end;
    }
  }
  PortSpec again;
  try {
    again = parse_port_spec(ps.text);
  } catch (const Error& e) {
    return std::string("its own text does not parse again: ") + e.what();
  }
  if (io_filled) fill_tap_io(again, ps.io);
  if (again.kind != ps.kind || again.name != ps.name || again.ifname != ps.ifname || again.fd != ps.fd ||
      again.recreate != ps.recreate || again.ring != ps.ring || again.queues != ps.queues ||
      again.devargs != ps.devargs || again.opts != ps.opts || again.offload != ps.offload || again.mtu != ps.mtu ||
      again.io != ps.io)
    return "its text parses to another spec";
  // A port is never configured twice.
  try {
    check_unique({ps, ps});
    return "check_unique() let the same spec twice through";
  } catch (const Error&) {
  }
  return "";
}

// Parses one spec and checks the invariants; returns false (after failing the test) on a
// broken one.
bool check_spec(const std::string& text, bool* parsed = nullptr) {
  try {
    const PortSpec ps = parse_port_spec(text);
    if (parsed) *parsed = true;
    const std::string why = spec_problem(ps);
    EXPECT_EQ(why, "") << "spec " << shown(text);
    return why.empty();
  } catch (const Error& e) {
    if (parsed) *parsed = false;
    const std::string why = message_problem(e.what());
    EXPECT_EQ(why, "") << "spec " << shown(text) << " -> " << shown(e.what());
    return why.empty();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "spec " << shown(text) << " threw a non-Error: " << e.what();
  } catch (...) {
    ADD_FAILURE() << "spec " << shown(text) << " threw something not an exception";
  }
  return false;
}

TEST(InputFuzz, PortSpecs) {
  Watchdog dog(kCaseLimit);
  Mutator m(0x5eed0001);
  unsigned parsed_n = 0, failures = 0;
  for (unsigned i = 0; i < 15000 && failures < 20; ++i) {
    std::string text;
    if (i < kSpecSeeds.size()) text = kSpecSeeds[i];
    else if (i % 10 == 0) text = m.bytes(40, true);
    else if (i % 10 == 1) text = m.pick(std::vector<std::string>{"tap:", "tapfd:", "link:", "dpdk:"}) + m.bytes(30, true);
    else text = m.mutate(m.pick(kSpecSeeds), kSpecWords, 4);
    bool parsed = false;
    bounded(dog, "parse_port_spec " + shown(text), [&] {
      if (!check_spec(text, &parsed)) ++failures;
    });
    parsed_n += parsed;
  }
  EXPECT_GT(parsed_n, 1000u) << "too few mutated specs parse: the mutations are too coarse";
}

// ---------------------------------------------------------------------------------------------
// (2) The command line and the config file.

std::string temp_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/tapswitch-input-fuzz-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (!d) throw std::runtime_error("mkdtemp failed");
    return std::string(d);
  }();
  return dir;
}

struct TempDirCleanup : ::testing::Environment {
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir(), ec);
  }
};
[[maybe_unused]] const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

// A summary of a configuration, to compare two.
std::string summary(const SwitchConfig& c) {
  std::string s;
  for (const auto& p : c.ports)
    s += fmt::format("port {} {} {} {} {} q{} m{} o{} io{} r{} {}|", p.text, to_string(p.kind), p.name, p.ifname, p.fd,
                     p.queues, p.mtu, p.offload, to_string(p.io), p.ring, p.devargs);
  for (const auto& f : c.fdb_static) s += fmt::format("static {} {} {}|", f.text, f.port, f.vlan);
  s += fmt::format("eal={} ctl={} group={} log={} mem={} mbufs={} fdb={} aging={} limit={} tapio={} workers={} poll={} wake={}",
                   c.eal, c.ctl_path, c.ctl_group, c.log_level, c.memory_mb, c.mbufs, c.fdb_size, c.fdb_aging,
                   c.fdb_port_limit, to_string(c.tap_io), c.dp.workers, to_string(c.dp.poll), to_string(c.dp.wake));
  for (unsigned cpu : c.dp.cpus) s += fmt::format(" cpu{}", cpu);
  for (const auto& a : c.dp.rxq_affinity) s += fmt::format(" pin {}:{}={}", a.port, a.queue, a.worker);
  return s;
}

// What is wrong with a configuration parse_args() accepted, or "".
std::string config_problem(const SwitchConfig& c) {
  for (const auto& p : c.ports)
    if (const std::string why = spec_problem(p, true); !why.empty()) return "port " + p.text + ": " + why;
  try {
    check_unique(c.ports);
  } catch (const Error& e) {
    return std::string("ports not unique: ") + e.what();
  }
  if (c.fdb_size < 16 || c.fdb_size > kMaxFdbSize) return "fdb-size out of range";
  if (c.fdb_aging == 1 || c.fdb_aging > kMaxFdbAging) return "fdb-aging out of range";
  if (c.fdb_port_limit > kMaxFdbSize) return "fdb-port-limit out of range";
  if (c.memory_mb != 0 && (c.memory_mb < 64 || c.memory_mb > kMaxMemoryMb)) return "memory out of range";
  if (c.mbufs != 0 && (c.mbufs < 1024 || c.mbufs > kMaxMbufs)) return "mbufs out of range";
  if (c.dp.workers < 1 || c.dp.workers > kMaxWorkers) return "workers out of range";
  if (!c.dp.cpus.empty() && c.dp.cpus.size() != c.dp.workers) return "lcores and workers disagree";
  for (const auto& a : c.dp.rxq_affinity)
    if (a.worker >= c.dp.workers) return "an rx queue pinned to a worker that does not exist";
  if (c.ctl_path.empty()) return "empty ctl path";
  return "";
}

// parse_args() of argv (after "tapswitch"): the outcome, "ok: SUMMARY" or "error", checked.
std::string check_args(const std::vector<std::string>& args, const std::string& what) {
  try {
    const ParsedArgs p = test::parse_argv(args);
    if (p.action == ParsedArgs::Action::help || p.action == ParsedArgs::Action::version) return "ok: " + std::to_string(int(p.action));
    const std::string why = config_problem(p.config);
    EXPECT_EQ(why, "") << what;
    // What --check-config adds (as on a machine of 4 CPUs and 16 GB).
    try {
      check_config(p.config, {0, 1, 2, 3}, 16384);
    } catch (const Error& e) {
      EXPECT_EQ(message_problem(e.what()), "") << what << " -> check_config: " << shown(e.what());
      return "ok, check_config: " + summary(p.config);
    }
    return "ok: " + summary(p.config);
  } catch (const Error& e) {
    const std::string why = message_problem(e.what());
    EXPECT_EQ(why, "") << what << " -> " << shown(e.what());
    return "error";
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << " threw a non-Error: " << e.what();
  } catch (...) {
    ADD_FAILURE() << what << " threw something not an exception";
  }
  return "broken";
}

const std::vector<std::vector<std::string>> kArgvSeeds = {
    {"--port", "tap:vm1", "--port", "dpdk:net_tap0,iface=vm2", "--fdb-size", "1024", "--log-level", "debug"},
    {"--workers", "2", "--lcores", "0-1", "--rxq-affinity", "vm1:0=1", "--port", "tap:vm1,queues=2", "--poll", "busy",
     "--wake-cpu", "any"},
    {"--fdb-static", "02:00:00:00:00:01,vm1,10", "--port", "tap:vm1", "--fdb-aging", "0", "--fdb-port-limit", "100",
     "--fdb-static", "02:00:00:00:00:02,vm1"},
    {"--memory", "512", "--mbufs", "4096", "--tap-io", "uring", "--ctl", "/tmp/x.sock", "--ctl-group", "wheel", "--eal",
     "--no-huge -m 256"},
    {"--check-config", "--port=link:vnet0,queues=2", "--port=tapfd:5,name=g", "--lcores=0,2-3"},
    {"--port", "tap:a", "--port", "tap:b", "--rxq-affinity", "a:0=0", "--rxq-affinity", "b:0=0", "--workers=1"},
};

const std::vector<std::string> kArgvWords = {
    "--port", "--fdb-size", "--fdb-aging", "--fdb-port-limit", "--fdb-static", "--memory", "--mbufs", "--tap-io",
    "--ctl", "--ctl-group", "--eal", "--log-level", "--workers", "--lcores", "--rxq-affinity", "--poll",
    "--wake-cpu", "--check-config", "--help", "--version", "--bogus", "-h", "-", "--", "--port=", "--fdb-size=",
    "--fdb", "--wor", "tap:vm1", "tap:vm2", "dpdk:net_null0", "link:vnet0", "vm1:0=0", "vm1:1=1", "0-1", "0,0",
    "1-0", "1023", "1024", "busy", "adaptive", "others", "home", "trace", "off", "uring", "auto", "syscall",
    "02:00:00:00:00:01,vm1", "01:00:5e:00:00:01,vm1", "02:00:00:00:00:01,vm1,4095", "02:00:00:00:00:01,,1",
    "", "=", "vm1"};

TEST(InputFuzz, CommandLine) {
  Watchdog dog(kCaseLimit);
  Mutator m(0x5eed0002);
  unsigned ok = 0;
  for (unsigned i = 0; i < 3000; ++i) {
    std::vector<std::string> args = i < kArgvSeeds.size() ? kArgvSeeds[i] : m.pick(kArgvSeeds);
    if (i >= kArgvSeeds.size()) {
      const unsigned edits = 1 + static_cast<unsigned>(m.below(3));
      for (unsigned e = 0; e < edits; ++e) {
        const size_t at = m.below(args.size() + 1);
        switch (m.below(i % 7 == 0 ? 9 : 8)) {
          case 0: if (at < args.size()) args.erase(args.begin() + static_cast<long>(at)); break;
          case 1: if (at < args.size()) args.insert(args.begin() + static_cast<long>(at), args[at]); break;
          case 2: if (!args.empty()) std::swap(args[m.below(args.size())], args[m.below(args.size())]); break;
          case 3: args.insert(args.begin() + static_cast<long>(at), m.pick(kArgvWords)); break;
          case 4: args.resize(at); break;
          case 5:
          case 6:
          case 7:
            if (at < args.size()) args[at] = m.mutate(args[at], kSpecWords, 3, false);
            break;
          case 8:  // pure random arguments
            args.clear();
            for (size_t k = m.below(6); k > 0; --k) args.push_back(m.bytes(20, false));
            break;
        }
      }
    }
    // "--config" with an arbitrary path is (2b)'s part; here it could name anything.
    for (auto& a : args)
      if (a.rfind("--co", 0) == 0 || a.rfind("--config", 0) == 0) a = "--bogus";
    std::string outcome;
    const std::string what = "argv " + shown(args);
    bounded(dog, what, [&] { outcome = check_args(args, what); });
    ok += outcome.rfind("ok", 0) == 0;
  }
  EXPECT_GT(ok, 150u);
}

// The same options from a config file as from the command line: both accepted with the same
// result, or both refused.
TEST(InputFuzz, ConfigFileAgreesWithTheCommandLine) {
  Watchdog dog(kCaseLimit);
  Mutator m(0x5eed0003);
  const std::string path = temp_dir() + "/agree.conf";
  unsigned both_ok = 0;
  for (unsigned i = 0; i < 800; ++i) {
    const auto& seed = m.pick(kArgvSeeds);
    std::vector<std::pair<std::string, std::string>> kv;
    for (size_t k = 0; k + 1 < seed.size(); ++k) {
      if (seed[k].rfind("--", 0) != 0 || seed[k].find('=') != std::string::npos || seed[k] == "--check-config") continue;
      std::string v = seed[k + 1];
      if (m.chance(0.3)) v = m.mutate(v, kSpecWords, 2, false);
      kv.emplace_back(seed[k].substr(2), v);
      ++k;
    }
    // Values a file cannot carry as the command line does: line breaks, '#', blanks around.
    bool representable = true;
    for (const auto& [k, v] : kv)
      representable &= v.find_first_of("\n\r#") == std::string::npos && !v.empty() && v.front() != ' ' &&
                       v.front() != '\t' && v.back() != ' ' && v.back() != '\t' && v.back() != '\x0b' &&
                       v.back() != '\x0c';
    if (!representable) continue;
    std::vector<std::string> args;
    std::string file;
    for (const auto& [k, v] : kv) {
      args.push_back("--" + k + "=" + v);
      file += k + " = " + v + "\n";
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << file;
    std::string a, b;
    const std::string what = "argv " + shown(args) + " / file " + shown(file);
    bounded(dog, what, [&] {
      a = check_args(args, "argv " + shown(args));
      b = check_args({"--config", path}, "config file " + shown(file));
    });
    EXPECT_EQ(a, b) << what;
    both_ok += a.rfind("ok", 0) == 0 && a == b;
  }
  EXPECT_GT(both_ok, 50u);
}

const std::vector<std::string> kFileSeeds = {
    "# tapswitch\nport = tap:vm1   # a comment\nport = dpdk:net_tap0,iface=vm2\nlog-level = debug\n"
    "ctl = /tmp/x.sock\nfdb-size = 1024\neal = --no-huge -m 256\n",
    "workers = 2\nlcores = 0-1\nport = tap:vm1,queues=2\nrxq-affinity = vm1:1=1\npoll = busy\nwake-cpu = home\n",
    "port = tap:vm1\nfdb-static = 02:00:00:00:00:01,vm1,10\nfdb-aging = 0\nfdb-port-limit = 16\ntap-io = syscall\n",
    "\xEF\xBB\xBFport=link:vnet0\r\nmemory=512\r\nmbufs=2048\r\n",
    "  port   =   tap:vm1\n\n\n\t# indented comment\nctl-group = 0\n",
};

const std::vector<std::string> kFileWords = {
    "port", "fdb-size", "fdb-aging", "fdb-port-limit", "fdb-static", "memory", "mbufs", "tap-io", "ctl",
    "ctl-group", "eal", "log-level", "workers", "lcores", "rxq-affinity", "poll", "wake-cpu", "help", "config",
    "check-config", "colour", "[sw]", "[", "]", "#", "\n", "\r\n", " = ", "=", "tap:vm1", "tap:vm2", "vm1:0=0",
    "02:00:00:00:00:01,vm1", "\n[a]\nport=tap:x\n", "\nport = tap:vm1\n", "\nfdb-size = 100\n", "\n=\n", "\n = x\n",
    "\nport\n", "\n\\\n", "\"", "'"};

TEST(InputFuzz, ConfigFiles) {
  Watchdog dog(kCaseLimit);
  Mutator m(0x5eed0004);
  const std::string path = temp_dir() + "/fuzz.conf";
  unsigned ok = 0;
  for (unsigned i = 0; i < 1500; ++i) {
    std::string text;
    if (i < kFileSeeds.size()) text = kFileSeeds[i];
    else if (i % 12 == 0) text = m.bytes(200, true);
    else if (i % 12 == 1) text = m.pick(kFileSeeds) + m.bytes(60, true);
    else text = m.mutate(m.pick(kFileSeeds), kFileWords, 5);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    std::vector<std::string> args = {"--config", path};
    if (i % 5 == 0) args.insert(args.end(), {"--port", "tap:cmd0"});
    if (i % 7 == 0) args.insert(args.end(), {"--fdb-size", "512"});
    std::string outcome;
    const std::string what = "config file " + shown(text) + " with argv " + shown(args);
    bounded(dog, what, [&] { outcome = check_args(args, what); });
    ok += outcome.rfind("ok", 0) == 0;
  }
  EXPECT_GT(ok, 50u);
}

// ---------------------------------------------------------------------------------------------
// (3) The control commands, on a switch of DPDK null ports (never started: no frames move).

class InputFuzzCommands : public ::testing::Test {
 protected:
  static SwitchConfig config() {
    SwitchConfig c;
    c.ports = {parse_port_spec("dpdk:net_null0"), parse_port_spec("dpdk:net_null1,queues=2")};
    c.mbufs = 4096;
    c.fdb_size = 64;
    return c;
  }

  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    run({"fdb", "add", "02:00:00:00:00:0a", "net_null0"});
    run({"fdb", "add", "02:00:00:00:00:0b", "net_null1", "vlan", "7"});
  }

  CtlReply run(std::vector<std::string> argv, bool json = false, int fd = -1) {
    CtlRequest req;
    req.argv = std::move(argv);
    req.json = json;
    req.fd = fd;
    req.client = 1;
    return commands_.dispatch(req);
  }

  // Everything a command could change, as the commands show it.
  std::string state() {
    std::string s;
    for (const auto& argv : std::vector<std::vector<std::string>>{{"show", "ports"}, {"show", "fdb"}, {"show", "fdb", "stats"},
                                                                  {"show", "stats"}, {"log", "level"}}) {
      CtlReply r = run(argv, true);
      EXPECT_TRUE(r.ok) << r.error;
      s += r.data.dump() + "\n";
    }
    for (uint64_t id : captures_) {
      try {
        s += run({"capture", "status", std::to_string(id)}, true).data.dump() + "\n";
      } catch (const Error& e) {
        s += std::string(e.what()) + "\n";
      }
    }
    s += fmt::format("ethdevs {}\n", rte_eth_dev_count_total());
    return s;
  }

  // False for a `port add` that might create a kernel interface or attach to something
  // real: only specs that fail to parse or name a dpdk:net_null device go.
  static bool safe(const std::vector<std::string>& argv) {
    if (argv.size() != 3 || argv[0] != "port" || argv[1] != "add") return true;
    try {
      const PortSpec ps = parse_port_spec(argv[2]);
      return ps.kind == PortKind::dpdk && ps.devargs.rfind("net_null", 0) == 0;
    } catch (const Error&) {
      return true;
    }
  }

  // Back to the two null ports, no captures, the log at warn.
  void restore() {
    for (const PortRecord* rec : sw_.ports())
      if (rec->port->name() != "net_null0" && rec->port->name() != "net_null1") sw_.remove_port(rec->port->name());
    if (!sw_.find_port("net_null0")) sw_.add_port(parse_port_spec("dpdk:net_null0"));
    if (!sw_.find_port("net_null1")) sw_.add_port(parse_port_spec("dpdk:net_null1,queues=2"));
    for (uint64_t id : captures_) {
      try {
        sw_.capture_manager().stop(id);
      } catch (const Error&) {
      }
    }
    captures_.clear();
    spdlog::set_level(spdlog::level::warn);
  }

  // Dispatches one request and checks the invariants; false after a failure.
  bool check(const std::vector<std::string>& argv, bool json, int fd) {
    const std::string what = "command " + shown(argv) + (json ? " -j" : "") + (fd >= 0 ? " with a file" : "");
    const std::string before = state();
    std::string error;
    bool failed = false;
    try {
      CtlReply r = run(argv, json, fd);
      if (!r.ok) {
        failed = true;
        error = r.error;
      } else {
        // A reply the server can send (it replaces what is not UTF-8).
        (void)nlohmann::json{{"ok", true}, {"data", r.data}, {"text", r.text}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (argv.size() >= 2 && argv[0] == "capture" && argv[1] == "start" && r.data.contains("id"))
          captures_.push_back(r.data["id"].get<uint64_t>());
        if (argv.size() == 3 && argv[0] == "port" && argv[1] == "add") {
          // The spec the switch shows parses again to what it opened.
          const std::string spec = r.data.value("spec", "");
          const std::string why = [&]() -> std::string {
            try {
              return spec_problem(parse_port_spec(spec));
            } catch (const Error& e) {
              return e.what();
            }
          }();
          EXPECT_EQ(why, "") << what << ": shown spec " << shown(spec);
        }
      }
    } catch (const Error& e) {
      failed = true;
      error = e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " threw a non-Error: " << e.what();
      return false;
    } catch (...) {
      ADD_FAILURE() << what << " threw something not an exception";
      return false;
    }
    if (!failed) {
      ++succeeded_;
      if (sw_.ports().size() > 3 || captures_.size() > 2 || m_.chance(0.3)) restore();
      return true;
    }
    const std::string why = message_problem(error);
    EXPECT_EQ(why, "") << what << " -> " << shown(error);
    const std::string after = state();
    EXPECT_EQ(before, after) << what << " failed (" << shown(error) << ") and changed the switch";
    if (before != after) restore();
    return why.empty() && before == after;
  }

  std::vector<std::string> random_argv() {
    static const std::vector<std::vector<std::string>> kSeeds = {
        {"help"},
        {"show", "ports"},
        {"show", "fdb"},
        {"show", "fdb", "stats"},
        {"show", "workers"},
        {"show", "stats"},
        {"port", "add", "dpdk:net_null5"},
        {"port", "add", "dpdk:net_null6,queues=2,mtu=9000"},
        {"port", "add", "dpdk:net_null7,size=64,offload=off"},
        {"port", "del", "net_null1"},
        {"port", "del", "net_null0"},
        {"fdb", "add", "02:00:00:00:00:01", "net_null0"},
        {"fdb", "add", "02:00:00:00:00:02", "net_null1", "vlan", "10"},
        {"fdb", "del", "02:00:00:00:00:0a"},
        {"fdb", "del", "02:00:00:00:00:0b", "vlan", "7"},
        {"fdb", "flush"},
        {"fdb", "flush", "all"},
        {"fdb", "flush", "port", "net_null0", "all"},
        {"fdb", "flush", "vlan", "7"},
        {"capture", "start", "net_null0", "--dir", "rx", "--count", "10", "--snaplen", "128"},
        {"capture", "start", "net_null1"},
        {"capture", "status", "1"},
        {"capture", "stop", "1"},
        {"log", "level"},
        {"log", "level", "error"},
    };
    static const std::vector<std::string> kWords = {
        "help", "show", "ports", "fdb", "stats", "workers", "port", "add", "del", "flush", "all", "vlan", "capture",
        "start", "status", "stop", "log", "level", "net_null0", "net_null1", "net_null9", "02:00:00:00:00:01",
        "02-00-00-00-00-01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "02:00:00:00:00:0a", "0", "1", "4094", "4095",
        "4096", "-1", "18446744073709551615", "18446744073709551616", "99999999999999999999", "--dir", "--count",
        "--snaplen", "rx", "tx", "both", "13", "14", "65535", "65536", "trace", "debug", "warn", "off", "WARN", "",
        "dpdk:net_null0", "dpdk:net_null8", "dpdk:", "tap:", "-j"};
    std::vector<std::string> argv = m_.pick(kSeeds);
    switch (m_.below(14)) {
      case 10:
      case 11: {  // port add of a null device with odd options: the paths into DPDK and back
        static const std::vector<std::string> kKeys = {"size", "copy", "no-rx", "queues", "mtu", "offload", "iface",
                                                       "socket_id", "colour", "", "queues", "mtu"};
        std::string spec = "dpdk:net_null" + std::to_string(2 + m_.below(6));
        for (size_t k = m_.below(4); k > 0; --k) {
          spec += "," + m_.pick(kKeys);
          if (m_.chance(0.9)) spec += "=" + (m_.chance(0.6) ? std::to_string(m_.below(m_.chance(0.5) ? 20 : 70000)) : m_.pick(kWords));
        }
        if (m_.chance(0.3)) spec = m_.mutate(spec, kSpecWords, 2);
        argv = {"port", "add", spec};
        break;
      }
      case 12:
      case 13: {  // fdb add of a random MAC, to fill the table
        argv = {"fdb", "add", fmt::format("{:02x}:00:00:00:{:02x}:{:02x}", m_.below(256), m_.below(256), m_.below(256)),
                m_.chance(0.5) ? "net_null0" : "net_null1"};
        if (m_.chance(0.5)) argv.insert(argv.end(), {"vlan", std::to_string(m_.below(4097))});
        break;
      }
      case 0: {  // random words
        argv.clear();
        for (size_t k = m_.below(6); k > 0; --k) argv.push_back(m_.chance(0.5) ? m_.pick(kWords) : m_.bytes(12, true, true));
        break;
      }
      case 1: break;  // as it is
      default: {
        const unsigned edits = 1 + static_cast<unsigned>(m_.below(3));
        for (unsigned e = 0; e < edits; ++e) {
          const size_t at = m_.below(argv.size() + 1);
          switch (m_.below(8)) {
            case 0: if (at < argv.size()) argv.erase(argv.begin() + static_cast<long>(at)); break;
            case 1: if (at < argv.size()) argv.insert(argv.begin() + static_cast<long>(at), argv[at]); break;
            case 2: if (!argv.empty()) std::swap(argv[m_.below(argv.size())], argv[m_.below(argv.size())]); break;
            case 3: argv.insert(argv.begin() + static_cast<long>(at), m_.pick(kWords)); break;
            case 4: argv.resize(at); break;
            default:
              if (at < argv.size()) {
                std::string w = m_.mutate(argv[at], kSpecWords, 3);
                if (!valid_utf8(w)) w = m_.bytes(10, true, true);  // JSON strings are UTF-8
                argv[at] = w;
              }
          }
        }
      }
    }
    return argv;
  }

  Switch sw_{config()};
  Commands commands_{sw_};
  Mutator m_{0x5eed0005};
  std::vector<uint64_t> captures_;
  unsigned succeeded_ = 0;
};

TEST_F(InputFuzzCommands, RandomCommands) {
  Watchdog dog(kCaseLimit);
  const std::string file = temp_dir() + "/capture.pcapng";
  unsigned failures = 0, skipped = 0, n = 0;
  for (unsigned i = 0; i < 4000 && failures < 20; ++i) {
    const std::vector<std::string> argv = random_argv();
    if (!safe(argv)) {
      ++skipped;
      continue;
    }
    ++n;
    const bool json = m_.chance(0.5);
    UniqueFd fd;
    if (!argv.empty() && argv[0] == "capture" && m_.chance(0.7))
      fd.reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    bool good = true;
    bounded(dog, "command " + shown(argv), [&] { good = check(argv, json, fd.get()); });
    failures += !good;
  }
  restore();
  EXPECT_GT(succeeded_, 200u);
  EXPECT_GT(n, 2500u) << skipped << " skipped";
}

// ---------------------------------------------------------------------------------------------
// (4) The control socket's framing: random bytes and mutated requests over a real socket, one
// reply per request line, in order, and the connection usable after any of them.

class Server {
 public:
  Server()
      : path_(temp_dir() + "/ctl.sock"), server_(path_) {
    server_.attach(loop_, [](const CtlRequest& r) {
      CtlReply out;
      std::string joined;
      for (const auto& a : r.argv) joined += (joined.empty() ? "" : " ") + a;
      out.text = joined;
      out.data = {{"argv", r.argv}};
      return out;
    });
  }

  UniqueFd connect() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    pump(1);
    return fd;
  }
  void pump(int rounds) {
    for (int i = 0; i < rounds; ++i) loop_.run_once(0);
  }
  // Sends in chunks of random sizes, pumping between them; false if the server hung up.
  bool send(int fd, const std::string& bytes, Mutator& m) {
    size_t off = 0;
    while (off < bytes.size()) {
      const size_t len = std::min(bytes.size() - off, 1 + m.below(m.chance(0.5) ? 16 : 8192));
      ssize_t n = ::send(fd, bytes.data() + off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) off += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN) return false;
      pump(1);
    }
    return true;
  }
  // The reply lines until `count` are read or the connection ends.
  std::vector<std::string> read(int fd, size_t count, bool until_eof = false) {
    std::vector<std::string> lines;
    for (int i = 0; i < 20000; ++i) {
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        lines.push_back(pending_.substr(0, nl));
        pending_.erase(0, nl + 1);
      }
      if (lines.size() >= count && !until_eof) break;
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        pending_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
      pump(1);
    }
    pending_.clear();
    return lines;
  }
  size_t clients() const { return server_.clients(); }

 private:
  std::string path_;
  EventLoop loop_;
  CtlServer server_;
  std::string pending_;
};

// The reply the server owes one request line: {ok, text} (text empty for an error).
std::pair<bool, std::string> expected_reply(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("argv") || !j["argv"].is_array()) return {false, ""};
  std::string joined;
  for (const auto& a : j["argv"]) {
    if (!a.is_string()) return {false, ""};
    joined += (joined.empty() ? "" : " ") + a.get<std::string>();
  }
  if (j.contains("json") && !j["json"].is_boolean()) return {false, ""};
  return {true, j.contains("json") && j["json"].get<bool>() ? "" : joined};
}

TEST(InputFuzz, ControlSocketFraming) {
  Watchdog dog(kCaseLimit);
  Mutator m(0x5eed0006);
  Server server;
  const std::vector<std::string> kJsonWords = {
      "{", "}", "[", "]", "\"argv\"", "\"json\"", ":", ",", "true", "false", "null", "1e999", "-0", "\"\\u0000\"",
      "\"\\ud800\"", "\"\\n\"", "\\", "\"", "\"show\"", "\"ports\"", "[[[[", "]]]]", "{\"argv\":[]}", "\"\xff\""};
  const std::vector<std::string> kRequests = {
      R"({"argv": ["show", "ports"]})", R"({"argv": ["show", "fdb"], "json": true})", R"({"argv": []})",
      R"({"argv": ["port", "add", "tap:vm4"], "json": false})", R"({"argv": ["a\u0000b", "\n", "\u00e9"]})",
      R"({"json": true, "argv": ["x"], "extra": {"nested": [1, 2, 3]}})"};
  unsigned cases = 0;
  for (unsigned i = 0; i < 400; ++i) {
    UniqueFd c = server.connect();
    std::string payload;
    std::vector<std::string> lines;
    for (size_t k = 1 + m.below(6); k > 0; --k) {
      std::string line;
      switch (m.below(5)) {
        case 0: line = m.bytes(80, true); break;
        case 1: line = m.pick(kRequests); break;
        case 2: {
          nlohmann::json argv = nlohmann::json::array();
          for (size_t w = m.below(5); w > 0; --w) argv.push_back(m.bytes(10, true, true));
          line = nlohmann::json{{"argv", argv}, {"json", m.chance(0.5)}}.dump();
          break;
        }
        default: line = m.mutate(m.pick(kRequests), kJsonWords, 4); break;
      }
      std::replace(line.begin(), line.end(), '\n', ' ');
      if (line.size() > 2000) line.resize(2000);  // oversize lines are tried below, on their own
      payload += line + (m.chance(0.2) ? "\r\n" : "\n");
      if (m.chance(0.1)) payload += m.chance(0.5) ? "\n" : " \t \n";
      lines.push_back(line);
    }
    // One more, ours, to know where the replies end.
    const std::string marker = fmt::format("marker-{}", i);
    payload += nlohmann::json{{"argv", {marker}}}.dump() + "\n";
    lines.push_back(nlohmann::json{{"argv", {marker}}}.dump());
    std::vector<std::pair<bool, std::string>> want;
    for (const auto& l : lines)
      if (l.find_first_not_of(" \t\r") != std::string::npos) want.push_back(expected_reply(l));
    const std::string what = "request bytes " + shown(payload);
    bounded(dog, what, [&] {
      ASSERT_TRUE(server.send(c.get(), payload, m)) << what;
      const std::vector<std::string> got = server.read(c.get(), want.size());
      ASSERT_EQ(got.size(), want.size()) << what;
      for (size_t k = 0; k < got.size(); ++k) {
        const nlohmann::json r = nlohmann::json::parse(got[k], nullptr, false);
        ASSERT_TRUE(r.is_object() && r.contains("ok") && r["ok"].is_boolean()) << what << " -> " << shown(got[k]);
        EXPECT_EQ(r["ok"].get<bool>(), want[k].first) << what << " -> " << shown(got[k]);
        if (!want[k].first) {
          EXPECT_EQ(message_problem(r.value("error", "")), "") << what << " -> " << shown(got[k]);
        } else if (!want[k].second.empty() || r.contains("text")) {
          EXPECT_EQ(r.value("text", ""), want[k].second) << what;
        }
      }
    });
    ++cases;
    // A hang-up in the middle of a request, now and then.
    if (m.chance(0.2)) {
      ASSERT_TRUE(server.send(c.get(), m.bytes(100, true), m));
      c.reset();
      server.pump(3);
    }
  }
  // Oversize lines: an error, then the connection closes.
  for (size_t size : {CtlServer::kMaxRequest + 1, CtlServer::kMaxRequest + 4000}) {
    UniqueFd c = server.connect();
    std::string big(size, 'x');
    for (char& b : big) b = static_cast<char>(m.below(256));
    std::replace(big.begin(), big.end(), '\n', 'x');
    bounded(dog, "oversize request", [&] {
      server.send(c.get(), big + "\n", m);
      const auto got = server.read(c.get(), 1, true);
      ASSERT_EQ(got.size(), 1u);
      EXPECT_NE(got[0].find("request too large"), std::string::npos) << got[0];
    });
  }
  server.pump(5);
  EXPECT_LE(server.clients(), 1u);
  EXPECT_EQ(cases, 400u);
}

// ---------------------------------------------------------------------------------------------
// What the fuzzing found, minimized.

// A DPDK option tapswitch reads, given twice: refused, as for the other kinds of port. Drivers
// differ on which of two they take (net_af_packet the first iface=, net_tap the last), and
// tapswitch named the port and checked its interface by the last: here vm9, while
// net_af_packet attached vm1.
TEST(InputFuzzFound, DpdkOptionGivenTwice) {
  auto error_of = [](const std::string& spec) {
    try {
      parse_port_spec(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("dpdk:net_af_packet0,iface=vm1,iface=vm9"),
            "port 'dpdk:net_af_packet0,iface=vm1,iface=vm9': option 'iface' given twice");
  EXPECT_EQ(error_of("dpdk:net_vhost0,iface=/tmp/a.sock,iface=/tmp/b.sock"),
            "port 'dpdk:net_vhost0,iface=/tmp/a.sock,iface=/tmp/b.sock': option 'iface' given twice");
  EXPECT_EQ(error_of("dpdk:net_null0,queues=2,queues=4"), "port 'dpdk:net_null0,queues=2,queues=4': option 'queues' given twice");
  EXPECT_EQ(error_of("dpdk:net_vhost0,iface=/tmp/a.sock,queues=2,queues=2"),
            "port 'dpdk:net_vhost0,iface=/tmp/a.sock,queues=2,queues=2': option 'queues' given twice");
  EXPECT_EQ(error_of("dpdk:net_tap0,iface=vm1,queues=2"), "no error");
}

// Messages quote what the user wrote; a control character in it (a line break, an escape
// sequence that tapswitchctl would print to the terminal, a NUL that ended what() and cut the
// message short), a C1 control or a byte that is not UTF-8 is written \xNN.
TEST(InputFuzzFound, MessagesQuoteControlCharactersEscaped) {
  auto args_error = [](std::vector<std::string> args) {
    try {
      test::parse_argv(std::move(args));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(args_error({"--lcores", "0\x1b[2J"}), "--lcores: '0\\x1b[2J' is not a CPU list like 1 or 0-1,3");
  EXPECT_EQ(args_error({"--por\nt", "tap:vm1"}), "unrecognised option '--por\\x0at' (see tapswitch --help)");
  EXPECT_EQ(args_error({"--poll", "busy\xff"}), "--poll: 'busy\\xff' is not adaptive or busy");
  EXPECT_EQ(args_error({"--poll", "b\xc3\xa9"}), "--poll: 'b\xc3\xa9' is not adaptive or busy") << "UTF-8 stays";
  // From a config file, the value's line is still found.
  const std::string path = temp_dir() + "/escaped.conf";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "port = tap:vm1\nfdb-size = 1\x1b" "2\n";
  EXPECT_EQ(args_error({"--config", path}),
            "--fdb-size: '1\\x1b" "2' is not a number from 16 to 16777216 (config file '" + path + "', line 2)");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "port = tap:vm1\n\x07" "bell = 1\n";
  EXPECT_EQ(args_error({"--config", path}), "config file '" + path + "', line 2: unrecognised option '\\x07bell'");

  SwitchConfig c;
  c.ports = {parse_port_spec("dpdk:net_null0")};
  c.mbufs = 4096;
  c.fdb_size = 64;
  Switch sw(c);
  Commands commands(sw);
  auto command_error = [&](std::vector<std::string> argv) {
    CtlRequest req;
    req.argv = std::move(argv);
    try {
      CtlReply r = commands.dispatch(req);
      return r.ok ? std::string("no error") : r.error;
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(command_error({"show\x1b[2J"}), "unknown command 'show\\x1b[2J' (try 'help')");
  EXPECT_EQ(command_error({"capture", "start", std::string("a\0b", 3)}), "there is no port named 'a\\x00b'");
  EXPECT_EQ(command_error({"fdb", "add", "02:00:00:00:00:01", "\xc2\x9b" "2J"}), "no port named '\\xc2\\x9b2J'");
  EXPECT_EQ(command_error({"port", "del", "vm1\n"}), "there is no port named 'vm1\\x0a'");
  EXPECT_EQ(command_error({"log", "level", "\xe2\x80\xa8"}),
            "log level: '\\xe2\\x80\\xa8' is not one of trace, debug, info, warn, error, critical, off");
}

// printable(), which fail() applies to every message: what it keeps and what it escapes, and
// that its output is one printable line that it leaves as it is.
TEST(InputFuzzFound, Printable) {
  EXPECT_EQ(printable("tap:vm1 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "tap:vm1 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(printable(std::string("a\0b\n\t\x7f", 6)), "a\\x00b\\x0a\\x09\\x7f");
  EXPECT_EQ(printable("\xc2\x85|\xc2\xa0"), "\\xc2\\x85|\xc2\xa0") << "C1 NEL escaped, no-break space kept";
  EXPECT_EQ(printable("\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80"),
            "\\xc0\\xaf|\\xe0\\x80\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80")
      << "overlong, surrogate, beyond U+10FFFF";
  EXPECT_EQ(printable("\xe2\x82"), "\\xe2\\x82") << "cut short";
  Mutator m(0x5eed0007);
  for (unsigned i = 0; i < 3000; ++i) {
    const std::string in = i % 2 ? m.bytes(40, true) : m.bytes(20, true, true);
    const std::string out = printable(in);
    EXPECT_EQ(printable(out), out) << shown(in);
    EXPECT_EQ(message_problem("x" + out), "") << shown(in);
  }
}

// --config /dev/zero (an endless stream) was read whole before parsing: memory without end.
// A config file is now read up to 1 MB.
TEST(InputFuzzFound, EndlessConfigFileIsRefused) {
  Watchdog dog(kCaseLimit);
  auto args_error = [](std::vector<std::string> args) {
    try {
      test::parse_argv(std::move(args));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string error;
  bounded(dog, "--config /dev/zero", [&] { error = args_error({"--config", "/dev/zero"}); });
  EXPECT_EQ(error, "--config: '/dev/zero' is larger than 1024 KB, too large for a config file");
  const std::string path = temp_dir() + "/big.conf";
  std::string ports;
  for (int i = 0; i < 1024; ++i) ports += fmt::format("port = tap:vm{}   # the guest of team {}\n", i, i);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << ports;
  EXPECT_EQ(test::parse_argv({"--config", path}).config.ports.size(), 1024u) << "a large config file still reads";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << ports << std::string(1 << 20, '#') << "\n";
  EXPECT_EQ(args_error({"--config", path}), "--config: '" + path + "' is larger than 1024 KB, too large for a config file");
}

}  // namespace
}  // namespace tapswitch
