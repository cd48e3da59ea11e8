// A randomized robustness test of what operators feed tapswitch, part 1: port specs
// (parse_port_spec), the command line and the config file (parse_args); part 2, the control
// commands and the control socket, is input_fuzz_control_test.cpp; shared pieces in input_fuzz.h.
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
#include "tests/unit/input_fuzz.h"

namespace tapswitch {
namespace {

using namespace fuzz;

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
// What the fuzzing found, minimized.

// A DPDK option tapswitch reads, given twice: refused, as for the other kinds of port. Drivers
// differ on which of two they take (net_af_packet the first iface=, net_tap the last), and
// tapswitch named the port and checked its interface by the last: here vm9, while
// net_af_packet attached vm1.
TEST(InputFuzzFound, DpdkOptionGivenTwice) {
  auto error_of = [](const std::string& spec) { return error_from([&] { parse_port_spec(spec); }); };
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
  auto args_error = [](std::vector<std::string> args) { return error_from([&] { test::parse_argv(std::move(args)); }); };
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
  auto args_error = [](std::vector<std::string> args) { return error_from([&] { test::parse_argv(std::move(args)); }); };
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
