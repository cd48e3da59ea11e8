#include "dpdk/eal.h"

#include <fcntl.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <cstdio>
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

}  // namespace

Eal::Eal(const std::vector<std::string>& args) : args_(args) {
  std::vector<std::string> argv_store;
  argv_store.push_back("tapswitch");
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  OutputCapture capture;
  int rc = rte_eal_init(static_cast<int>(argv_store.size()), argv.data());
  int err = rte_errno;
  auto lines = capture.finish();
  for (const auto& l : lines) spdlog::debug("dpdk: {}", l);
  if (rc < 0) {
    std::string reason = failure_reason(lines);
    if (reason.empty()) reason = rte_strerror(err);
    fail("DPDK could not start with EAL arguments '{}': {}", join(args), reason);
  }
  install_dpdk_log_bridge();
  spdlog::debug("DPDK EAL started: {}", join(args));
}

Eal::~Eal() {
  // The per-instance runtime directory holds only the telemetry socket with --no-shconf;
  // remove both so that instances do not leave one directory each behind (DPDK unlinks the
  // socket only at exit, after this). rmdir() leaves a non-empty (shared) directory alone.
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  if (!runtime_dir.empty()) {
    ::unlink((runtime_dir + "/dpdk_telemetry.v2").c_str());
    ::rmdir(runtime_dir.c_str());
  }
  remove_dpdk_log_bridge();
}

}  // namespace tapswitch
