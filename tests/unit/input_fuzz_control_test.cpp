// A randomized robustness test of what operators feed tapswitch, part 2: the control commands
// (Commands::dispatch on a Switch with DPDK null ports) and the control socket's framing
// (CtlServer). Invariants as in input_fuzz_parse_test.cpp; besides, a failed command leaves the
// switch as it was (ports, FDB, counters, captures, DPDK devices, the log level). `port add` is
// dispatched only for specs that cannot succeed or name a dpdk:net_null device (nothing creates
// a kernel interface), and captures write to files in a temporary directory.
#include "tests/unit/input_fuzz.h"

namespace tapswitch {
namespace {

using namespace fuzz;

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


}  // namespace
}  // namespace tapswitch
