// tapswitch: the switch daemon.
//
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM/SIGHUP), 2 for bad input or a switch that
// could not start (one line on stderr names the problem), 1 for a failure while running.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/service_notify.h"
#include "base/cpus.h"
#include "base/error.h"
#include "base/inherited_fds.h"
#include "dpdk/eal.h"
#include "dpdk/eal_args.h"
#include "ports/tap_io_choice.h"
#include "switch/config.h"
#include "switch/config_check.h"
#include "switch/control_loop.h"
#include "switch/ctl_server.h"
#include "switch/switch.h"

using namespace tapswitch;

namespace {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("tapswitch");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

int error_exit(const std::string& msg) {
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "tapswitch: error: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  inherited_fds::record();  // before anything opens an fd: what tapfd: ports may adopt
  ParsedArgs args;
  try {
    args = parse_args(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "tapswitch: error: %s\n", e.what());
    return 2;
  }
  if (args.action == ParsedArgs::Action::help) {
    std::fputs(args.help.c_str(), stdout);
    return 0;
  }
  if (args.action == ParsedArgs::Action::version) {
    std::printf("tapswitch %s\n", TAPSWITCH_VERSION);
    return 0;
  }
  args.config.dp.process_cpus = thread_cpus();  // before DPDK pins this thread
  const SwitchConfig& cfg = args.config;
  // Everything that can be checked without starting anything, before anything starts.
  try {
    check_config(cfg, cfg.dp.process_cpus);
  } catch (const Error& e) {
    std::fprintf(stderr, "tapswitch: error: %s\n", e.what());
    return 2;
  }
  if (args.action == ParsedArgs::Action::check) {
    std::printf("configuration OK\n");
    return 0;
  }
  setup_logging(cfg.log_level);
  block_shutdown_signals();
  const std::optional<double> syscall_ns = resolve_tap_io(args.config);  // (before the memory estimate)

  try {
    CtlServerOptions ctl_options;
    ctl_options.group = cfg.ctl_group;
    CtlServer ctl(cfg.ctl_path, ctl_options);
    EalArgsInput ein;
    ein.user = cfg.eal;
    ein.workers = cfg.dp.workers;
    ein.worker_cpus = cfg.dp.cpus;
    ein.allowed_cpus = cfg.dp.process_cpus;
    ein.file_prefix = "tapswitch-" + std::to_string(::getpid());
    ein.memory_mb = Switch::memory_mb(cfg);
    const std::vector<std::string> eal_args = build_eal_args(ein);
    // Our own per-instance prefix unless the user named one in --eal.
    const bool private_dir =
        std::find(eal_args.begin(), eal_args.end(), "--file-prefix=" + ein.file_prefix) != eal_args.end();
    Eal eal(eal_args, private_dir);
    int sig = 0;
    {
      Switch sw(cfg);
      sw.start();
      if (syscall_ns)
        spdlog::info("raw-fd tap I/O: {} (--tap-io auto: a system call costs {:.2f} us here, io_uring from {:.1f})",
                     cfg.tap_io == TapIo::uring ? "io_uring" : "read/write", *syscall_ns / 1000,
                     kUringFromSyscallNs / 1000);
      const size_t nports = sw.ports().size();
      spdlog::info("tapswitch {} started: {} port{}, control socket {}", TAPSWITCH_VERSION, nports,
                   nports == 1 ? "" : "s", ctl.path());
      try {
        ControlLoop loop(sw, ctl);
        sig = loop.run([&] {
          notify_ready(fmt::format("forwarding on {} ports; control socket {}", sw.ports().size(), ctl.path()));
        });
      } catch (const std::exception& e) {
        notify_stopping();
        spdlog::critical("control thread failed: {}", e.what());
        return 1;
      }
      notify_stopping();
      spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM");
    }
    spdlog::info("tapswitch stopped");
    return 0;
  } catch (const Error& e) {
    return error_exit(e.what());
  } catch (const std::exception& e) {
    return error_exit(e.what());
  }
}
