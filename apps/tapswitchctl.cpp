// tapswitchctl: talks to a running tapswitch over its control socket.
//
//   tapswitchctl [--ctl PATH] [-j] COMMAND...
//   tapswitchctl [--ctl PATH] capture PORT -w FILE [-c N] [--dir rx|tx|both] [--snaplen N]
//
// Exit codes: 0 success, 1 the switch refused the command, 2 usage error or no switch to talk to
// (including a switch that went away during a capture).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/ctl_client.h"
#include "base/unique_fd.h"

using tapswitch::CtlClient;

namespace {

constexpr const char* kDefaultCtl = "/run/tapswitch/tapswitch.sock";

const char kUsage[] =
    "Usage: tapswitchctl [--ctl PATH] [-j|--json] COMMAND...\n"
    "Talks to a running tapswitch.\n\n"
    "Options:\n"
    "  --ctl PATH    control socket (default /run/tapswitch/tapswitch.sock, or $TAPSWITCH_CTL)\n"
    "  -j, --json    print the reply as JSON instead of a table\n"
    "  -h, --help    show this help\n\n"
    "Commands (`tapswitchctl help` asks the switch for its full list):\n"
    "  show ports | show fdb | show fdb stats | show workers | show stats\n"
    "  port add SPEC | port del NAME\n"
    "  fdb add MAC PORT [vlan V] | fdb del MAC [vlan V] | fdb flush [port NAME | vlan N] [all]\n"
    "  log level [LEVEL]\n"
    "  capture PORT -w FILE [-c N] [--dir rx|tx|both] [--snaplen N]\n"
    "      write PORT's frames to FILE as pcapng (tcpdump -r, tshark -r) until N frames (-c 0, the\n"
    "      default: no limit), Ctrl-C, or PORT's removal; FILE is opened here, with your\n"
    "      permissions, and handed to the switch, which empties it only once it accepts the capture\n"
    "See tapswitchctl(8).\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "tapswitchctl: %s\nTry 'tapswitchctl --help'.\n", msg.c_str());
  return 2;
}

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

int fail_reply(const nlohmann::json& r) {
  std::fprintf(stderr, "tapswitchctl: %s\n", r.value("error", std::string("error")).c_str());
  return 1;
}

// The -w file. It is opened without O_TRUNC (the switch empties it only once it accepts the
// capture) and created only if missing; a file created here is removed again unless kept.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path) {
    if (path == "-") {
      fd_.reset(::dup(STDOUT_FILENO));
      return;
    }
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd_ && errno == ENOENT) {
      fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      created_ = static_cast<bool>(fd_);
    }
  }
  ~OutputFile() {
    fd_.reset();
    if (created_ && !kept_) ::unlink(path_.c_str());
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  int fd() const { return fd_.get(); }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  tapswitch::UniqueFd fd_;
  bool created_ = false, kept_ = false;
};

unsigned long long number(const nlohmann::json& d, const char* key) { return d.value(key, uint64_t{0}); }

// The connection to the switch failed in the middle of a capture.
int lost(const CtlClient& c, const nlohmann::json& last, const std::string& port, const std::string& file) {
  if (!c.gone()) return std::fprintf(stderr, "tapswitchctl: %s\n", c.error().c_str()), 2;
  std::fprintf(stderr,
               "tapswitchctl: the switch went away, so the capture on %s ended; %s holds the frames written until "
               "then (%llu when last asked, %llu dropped)\n",
               port.c_str(), file.c_str(), number(last, "written"), number(last, "dropped"));
  return 2;
}

int capture(CtlClient& c, const std::vector<std::string>& args, bool json) {
  std::string port, file, count = "0", dir = "both", snaplen = "65535";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    bool ok = true;
    if (a == "-w") ok = value(file);
    else if (a == "-c") ok = value(count);
    else if (a == "--dir") ok = value(dir);
    else if (a == "--snaplen") ok = value(snaplen);
    else if (port.empty() && a[0] != '-') port = a;
    else return usage_error("capture: unexpected argument '" + a + "'");
    if (!ok) return usage_error("capture: " + a + " needs a value");
  }
  if (port.empty() || file.empty())
    return usage_error("usage: capture PORT -w FILE [-c N] [--dir rx|tx|both] [--snaplen N]");
  // (-c is --count to the switch, whose errors would name that; checked here, before FILE is made)
  uint64_t frames = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), frames);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size())
    return usage_error("capture: -c '" + count + "' is not a number of frames (0: no limit)");
  OutputFile out(file);
  if (out.fd() < 0) {
    std::fprintf(stderr, "tapswitchctl: cannot open %s: %s\n", file.c_str(), std::strerror(errno));
    return 2;
  }
  // From here on, any number of SIGINT/SIGTERM end the capture once and cleanly.
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  nlohmann::json r;
  if (!c.request({"capture", "start", port, "--dir", dir, "--count", count, "--snaplen", snaplen}, true, r, out.fd()))
    return std::fprintf(stderr, "tapswitchctl: %s\n", c.error().c_str()), 2;
  if (!r["ok"].get<bool>()) return fail_reply(r);
  out.keep();
  const std::string id = std::to_string(r["data"]["id"].get<uint64_t>());
  nlohmann::json last = nlohmann::json::object();
  while (!g_interrupted) {
    ::usleep(50'000);
    if (!c.request({"capture", "status", id}, true, r)) return lost(c, last, port, file);
    if (!r["ok"].get<bool>()) return fail_reply(r);
    last = r["data"];
    if (last["done"].get<bool>()) break;
  }
  if (!c.request({"capture", "stop", id}, true, r)) return lost(c, last, port, file);
  if (!r["ok"].get<bool>()) return fail_reply(r);
  const nlohmann::json& d = r["data"];
  if (json) {
    std::printf("%s\n", d.dump(2).c_str());
  } else {
    FILE* to = file == "-" ? stderr : stdout;
    std::fprintf(to, "%llu frames captured on %s to %s (%llu dropped)\n", number(d, "written"), port.c_str(),
                 file.c_str(), number(d, "dropped"));
    if (d.contains("ended")) std::fprintf(to, "capture ended: %s\n", d["ended"].get<std::string>().c_str());
  }
  if (d.contains("error")) {
    std::fprintf(stderr, "tapswitchctl: capture file error: %s\n", d["error"].get<std::string>().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ctl;
  if (const char* env = std::getenv("TAPSWITCH_CTL")) ctl = env;
  if (ctl.empty()) ctl = kDefaultCtl;
  bool json = false;
  std::vector<std::string> cmd;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!cmd.empty() && (a == "-j" || a == "--json")) {
      json = true;  // accepted after the command too: tapswitchctl show fdb -j
    } else if (!cmd.empty()) {
      cmd.push_back(a);  // everything else after the command word belongs to the command
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "-j" || a == "--json") {
      json = true;
    } else if (a == "--ctl") {
      if (++i >= argc) return usage_error("--ctl needs a path");
      ctl = argv[i];
    } else if (a.rfind("--ctl=", 0) == 0) {
      ctl = a.substr(6);
    } else if (a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else {
      cmd.push_back(a);
    }
  }
  if (cmd.empty()) return usage_error("no command given");

  CtlClient c(ctl);
  if (!c.connected()) {
    std::fprintf(stderr, "tapswitchctl: %s\n", c.error().c_str());
    return 2;
  }
  if (cmd[0] == "capture" && (cmd.size() < 2 || (cmd[1] != "start" && cmd[1] != "status" && cmd[1] != "stop")))
    return capture(c, std::vector<std::string>(cmd.begin() + 1, cmd.end()), json);

  nlohmann::json r;
  if (!c.request(cmd, json, r)) {
    std::fprintf(stderr, "tapswitchctl: %s\n", c.error().c_str());
    return 2;
  }
  if (!r["ok"].get<bool>()) return fail_reply(r);
  if (json) {
    std::printf("%s\n", r["data"].dump(2).c_str());
  } else {
    std::fputs(r.value("text", std::string()).c_str(), stdout);
  }
  return 0;
}
