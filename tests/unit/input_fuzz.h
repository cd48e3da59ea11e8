// Shared pieces of the input fuzz tests (input_fuzz_parse_test.cpp: port specs, the command
// line, config files; input_fuzz_control_test.cpp: control commands and the control socket):
// showing inputs, checking error messages, bounding each case in time, mutating inputs, the
// port-spec seeds and invariants, and a temporary directory.
#pragma once

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

namespace tapswitch::fuzz {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Helpers: showing inputs, checking messages, bounding cases.

// Bytes as a C string literal would show them (long ones cut), for failure messages.
inline std::string shown(std::string_view s) {
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

inline std::string shown(const std::vector<std::string>& v) {
  std::string out = "{";
  for (const auto& a : v) out += (out.size() > 1 ? ", " : "") + shown(a);
  return out + "}";
}

inline bool valid_utf8(std::string_view s) {
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
inline std::string message_problem(const std::string& m) {
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

inline constexpr auto kCaseLimit = std::chrono::milliseconds(5000);  // the watchdog's
inline constexpr auto kSlowCase = std::chrono::microseconds(500000);  // reported as a failure

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

inline const std::vector<std::string> kSpecSeeds = {
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

inline const std::vector<std::string> kSpecWords = {
    "tap", "tapfd", "link", "dpdk", "net_null0", "net_null1", "net_tap0", "net_vhost0", "eth_vhost1",
    "net_af_packet0", "iface", "queues", "mtu", "offload", "io", "recreate", "ring", "name", "on", "off",
    "uring", "syscall", "auto", "vm1", "%d", "..", ".", "/", "size", "copy", "qpairs", "tso", "colour", "ON", "tap:",
    "dpdk:", "queues=16", "queues=17", "mtu=65521", "mtu=65535", "iface=vm1", "name=a"};

// What is wrong with a spec that parsed, or "": the documented ranges, and that the text the
// switch keeps (and shows as "spec") parses to the same spec (but for io=, which the global
// --tap-io fills in when `io_filled`).
inline std::string spec_problem(const PortSpec& ps, bool io_filled = false) {
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

// The message of the tapswitch::Error f() throws, or "no error".
template <typename F>
std::string error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A temporary directory for the tests' files, removed after the last test.

inline std::string temp_dir() {
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
[[maybe_unused]] inline const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

}  // namespace tapswitch::fuzz
