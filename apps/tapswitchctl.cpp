// tapswitchctl: talks to a running tapswitch over its control socket.
//
//   tapswitchctl [--ctl PATH] [-j] COMMAND...
//
// Exit codes: 0 success, 1 the switch refused the command, 2 usage error or no switch to talk to.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

constexpr const char* kDefaultCtl = "/run/tapswitch/tapswitch.sock";
constexpr int kTimeoutMs = 10000;

const char kUsage[] =
    "Usage: tapswitchctl [--ctl PATH] [-j|--json] COMMAND...\n"
    "Talks to a running tapswitch.\n\n"
    "Options:\n"
    "  --ctl PATH    control socket (default /run/tapswitch/tapswitch.sock, or $TAPSWITCH_CTL)\n"
    "  -j, --json    print the reply as JSON instead of a table\n"
    "  -h, --help    show this help\n\n"
    "Commands (tapswitchctl help lists every one the running switch knows):\n"
    "  help              list the commands the switch knows\n"
    "  show ports        ports with kind, state and counters\n"
    "  show fdb          learned MAC addresses: mac, vlan, port, type, age\n"
    "  show fdb stats    FDB counters\n"
    "  show workers      per-worker queues and load\n"
    "  show stats        switch counters per port, mbuf pool\n"
    "  port add SPEC     add a port while running\n"
    "  port del NAME     remove a port while running\n"
    "  log level [LEVEL] show or set the log level\n"
    "See tapswitchctl(8).\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "tapswitchctl: %s\n%s", msg.c_str(), "Try 'tapswitchctl --help'.\n");
  return 2;
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
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "-j" || a == "--json") {
      json = true;
    } else if (a == "--ctl") {
      if (++i >= argc) return usage_error("--ctl needs a path");
      ctl = argv[i];
    } else if (a.rfind("--ctl=", 0) == 0) {
      ctl = a.substr(6);
    } else {
      cmd.push_back(a);
    }
  }
  if (cmd.empty()) return usage_error("no command given");

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (ctl.size() >= sizeof addr.sun_path) return usage_error("control socket path too long");
  std::memcpy(addr.sun_path, ctl.c_str(), ctl.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    std::fprintf(stderr, "tapswitchctl: cannot connect to %s: %s (%s)\n", ctl.c_str(), std::strerror(e),
                 e == EACCES ? "only root and members of tapswitch's --ctl-group may use it" : "is tapswitch running?");
    return 2;
  }
  std::string req = nlohmann::json{{"argv", cmd}, {"json", json}}.dump() + "\n";
  for (size_t off = 0; off < req.size();) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      std::fprintf(stderr, "tapswitchctl: cannot send to %s: %s\n", ctl.c_str(), std::strerror(errno));
      return 2;
    }
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) <= 0) {
      std::fprintf(stderr, "tapswitchctl: no reply from %s within %d s\n", ctl.c_str(), kTimeoutMs / 1000);
      return 2;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("ok")) {
    std::fprintf(stderr, "tapswitchctl: malformed reply from %s\n", ctl.c_str());
    return 2;
  }
  if (!r["ok"].get<bool>()) {
    std::fprintf(stderr, "tapswitchctl: %s\n", r.value("error", std::string("error")).c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", r["data"].dump(2).c_str());
  } else {
    std::fputs(r.value("text", std::string()).c_str(), stdout);
  }
  return 0;
}
