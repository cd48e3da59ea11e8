#include "dpdk/eal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "dpdk/log_bridge.h"

namespace tapswitch {

namespace {

// Redirects stdout and stderr into a pipe for the duration of a scope and returns what was
// written. DPDK prints its start-up log and its usage text there.
class OutputCapture {
 public:
  OutputCapture() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    rd_.reset(fds[0]);
    UniqueFd wr(fds[1]);
    ::fcntl(wr.get(), F_SETPIPE_SZ, 1 << 20);  // room for a usage dump; best effort
    std::fflush(stdout);
    std::fflush(stderr);
    saved_out_.reset(::dup(STDOUT_FILENO));
    saved_err_.reset(::dup(STDERR_FILENO));
    ::dup2(wr.get(), STDOUT_FILENO);
    ::dup2(wr.get(), STDERR_FILENO);
  }
  ~OutputCapture() { restore(); }

  std::vector<std::string> finish() {
    restore();
    std::string text;
    char buf[4096];
    while (rd_) {
      ssize_t n = ::read(rd_.get(), buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    return lines;
  }

 private:
  void restore() {
    if (!saved_out_) return;
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_out_.get(), STDOUT_FILENO);
    ::dup2(saved_err_.get(), STDERR_FILENO);
    saved_out_.reset();
    saved_err_.reset();
  }

  UniqueFd rd_, saved_out_, saved_err_;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Picks the line of DPDK's output that best explains a failed start.
std::string failure_reason(const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    // getopt: "tapswitch: unrecognized option '--foo'" / "invalid option -- 'x'"
    if (l.find("option") != std::string::npos && l.find("Usage") == std::string::npos &&
        l.rfind("  ", 0) != 0)
      return l;
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->rfind("EAL:", 0) == 0) return *it;
  }
  return lines.empty() ? std::string() : lines.front();
}

// The per-instance runtime directory, to remove at exit. DPDK's telemetry unlinks its socket
// there from an atexit() handler that rte_eal_init() registers, so while ~Eal runs the
// directory is not empty yet. A handler registered before rte_eal_init() runs after DPDK's
// (atexit handlers run in reverse order) and removes the directory then, also when
// rte_eal_init() failed. Plain globals, so they outlive every static destructor.
char g_runtime_dir[PATH_MAX];
bool g_runtime_dir_private = false;

void remove_runtime_dir() {
  if (!g_runtime_dir[0]) return;
  if (g_runtime_dir_private) {
    // No other process uses a per-instance prefix: what DPDK keeps there (shared config,
    // fbarrays, its IPC socket without --no-shconf) is stale once this EAL is gone.
    if (DIR* d = ::opendir(g_runtime_dir)) {
      while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
          ::unlinkat(::dirfd(d), e->d_name, 0);
      }
      ::closedir(d);
    }
  }
  // rmdir() leaves a non-empty (shared, or still in use) directory alone.
  ::rmdir(g_runtime_dir);
}

// True if a process still answers on the telemetry socket in `dir` (one in another PID
// namespace, whose PID we cannot see).
bool telemetry_answers(const std::string& dir) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const std::string path = dir + "/dpdk_telemetry.v2";
  if (path.size() >= sizeof sun.sun_path) return true;  // cannot tell: keep it
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  return s && ::connect(s.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0;
}

// Removes the runtime directories that per-instance prefixes like ours ("tapswitch-PID", next
// to our own) left behind when their process was killed: one whose PID no longer exists and
// whose telemetry socket nobody answers. A live process's directory is left alone.
unsigned remove_stale_runtime_dirs(const std::string& own) {
  const size_t slash = own.rfind('/'), dash = own.rfind('-');
  if (slash == std::string::npos || dash == std::string::npos || dash < slash) return 0;
  const std::string parent = own.substr(0, slash), stem = own.substr(slash + 1, dash - slash);  // "tapswitch-"
  unsigned removed = 0;
  DIR* d = ::opendir(parent.c_str());
  if (!d) return 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(stem, 0) != 0 || name.size() == stem.size()) continue;
    const std::string pid = name.substr(stem.size());
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string dir = parent + "/" + name;
    if (dir == own || ::access(("/proc/" + pid).c_str(), F_OK) == 0 || telemetry_answers(dir)) continue;
    if (DIR* s = ::opendir(dir.c_str())) {
      while (const dirent* f = ::readdir(s))
        if (std::strcmp(f->d_name, ".") != 0 && std::strcmp(f->d_name, "..") != 0) ::unlinkat(::dirfd(s), f->d_name, 0);
      ::closedir(s);
    }
    if (::rmdir(dir.c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace

Eal::Eal(const std::vector<std::string>& args, bool private_runtime_dir) : args_(args) {
  std::vector<std::string> argv_store;
  argv_store.push_back("tapswitch");
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  static const bool at_exit_registered = std::atexit(remove_runtime_dir) == 0;
  (void)at_exit_registered;
  g_runtime_dir_private = private_runtime_dir;

  OutputCapture capture;
  int rc = rte_eal_init(static_cast<int>(argv_store.size()), argv.data());
  int err = rte_errno;
  const char* dir = rte_eal_get_runtime_dir();
  if (dir && dir[0]) std::snprintf(g_runtime_dir, sizeof g_runtime_dir, "%s", dir);
  auto lines = capture.finish();
  for (const auto& l : lines) spdlog::debug("dpdk: {}", l);
  if (rc < 0) {
    std::string reason = failure_reason(lines);
    if (reason.empty()) reason = rte_strerror(err);
    fail("DPDK could not start with EAL arguments '{}': {}", join(args), reason);
  }
  install_dpdk_log_bridge();
  spdlog::debug("DPDK EAL started: {}", join(args));
  if (private_runtime_dir && g_runtime_dir[0])
    if (unsigned n = remove_stale_runtime_dirs(g_runtime_dir))
      spdlog::debug("removed {} DPDK runtime director{} left by tapswitch processes that were killed", n,
                   n == 1 ? "y" : "ies");
}

Eal::~Eal() {
  // Instances must not leave one runtime directory each behind: remove it now if it can be
  // (private, or already empty), else at exit once telemetry has unlinked its socket.
  rte_eal_cleanup();
  remove_runtime_dir();
  remove_dpdk_log_bridge();
}

}  // namespace tapswitch
