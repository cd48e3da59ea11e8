// --check-config, --ctl-group, the log level command and the control lock of the event loop.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "base/error.h"
#include "dpdk/eal_args.h"
#include "switch/commands.h"
#include "switch/config.h"
#include "tests/unit/args_util.h"
#include "switch/config_check.h"
#include "switch/event_loop.h"

namespace tapswitch {
namespace {

ParsedArgs parse(std::vector<std::string> args) { return test::parse_argv(std::move(args)); }

const std::vector<unsigned> kCpus = {0, 1};

// Parses and checks, on a machine of `machine_mb` MB (0: not checked); returns "" when both
// accept, else the error.
std::string check(std::vector<std::string> args, uint64_t machine_mb = 0) {
  try {
    ParsedArgs a = parse(std::move(args));
    check_config(a.config, kCpus, machine_mb);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(CheckConfig, ActionAndGroupOption) {
  EXPECT_EQ(parse({"--check-config"}).action, ParsedArgs::Action::check);
  EXPECT_EQ(parse({}).action, ParsedArgs::Action::run);
  EXPECT_EQ(parse({"--ctl-group", "users"}).config.ctl_group, "users");
  EXPECT_TRUE(parse({}).config.ctl_group.empty());
}

TEST(CheckConfig, AcceptsAGoodConfiguration) {
  EXPECT_EQ(check({"--port", "tap:a", "--port", "dpdk:net_tap0,iface=b,queues=2", "--workers", "2", "--lcores",
                   "0-1", "--rxq-affinity", "b:1=1", "--rxq-affinity", "a:0=0", "--ctl-group", "root", "--eal",
                   "--no-huge 'x y'"}),
            "");
}

TEST(CheckConfig, RxqAffinityNamesAConfiguredPort) {
  EXPECT_EQ(check({"--port", "tap:a", "--rxq-affinity", "c:0=0"}), "--rxq-affinity: there is no port named 'c'");
}

TEST(CheckConfig, RxqAffinityNamesAnExistingQueue) {
  EXPECT_EQ(check({"--port", "tap:a", "--rxq-affinity", "a:1=0"}),
            "--rxq-affinity: port a has 1 rx queue(s); queue 1 does not exist");
  EXPECT_EQ(check({"--port", "dpdk:net_tap0,iface=a,queues=4", "--rxq-affinity", "a:3=0"}), "");
}

TEST(CheckConfig, UnlabelledTapfdMayBeNamedLater) {
  EXPECT_EQ(check({"--port", "tapfd:5", "--rxq-affinity", "guest:0=0"}), "");
  EXPECT_NE(check({"--port", "tapfd:5,name=g", "--rxq-affinity", "guest:0=0"}), "");
}

TEST(CheckConfig, CpusMustBeAllowed) {
  EXPECT_EQ(check({"--lcores", "1,7"}), "--lcores: CPU 7 is not one this process may run on (allowed: 0-1)");
}

TEST(CheckConfig, EalQuotesMustBalance) {
  EXPECT_EQ(check({"--eal", "--no-huge 'oops"}), "--eal: unterminated quote in '--no-huge 'oops'");
}

TEST(CheckConfig, CtlPathMustFitASocketAddress) {
  EXPECT_NE(check({"--ctl", "/tmp/" + std::string(120, 'x')}).find("too long for a UNIX socket"), std::string::npos);
}

TEST(CheckConfig, CtlGroupMustExist) {
  EXPECT_EQ(check({"--ctl-group", "no-such-group-tapswitch"}),
            "--ctl-group: there is no group named 'no-such-group-tapswitch'");
  EXPECT_EQ(check({"--ctl-group", "root"}), "");
  EXPECT_EQ(resolve_ctl_group("root"), 0u);
  EXPECT_EQ(resolve_ctl_group("4242"), 4242u);  // a number is taken as a gid, as chgrp does
}

TEST(CheckConfig, DuplicatesAndSyntaxStillCaught) {
  EXPECT_NE(check({"--port", "tap:a", "--port", "tap:a"}).find("already configured"), std::string::npos);
  EXPECT_NE(check({"--ctl-group", ""}).find("--ctl-group: the group name is empty"), std::string::npos);
}

// The control socket's directory: a start creates one missing level, no more.
TEST(CheckConfig, CtlDirectoryMustExistOrBeCreatable) {
  const std::string base = ::testing::TempDir() + "ctl-dir-" + std::to_string(::getpid());
  EXPECT_EQ(check({"--ctl", base + "/x.sock"}), "") << "one missing level is created at start";
  EXPECT_EQ(check({"--ctl", base + "/a/x.sock"}),
            "--ctl: cannot create directory '" + base + "/a': No such file or directory");
  EXPECT_EQ(check({"--ctl", "/proc/self/status/x.sock"}), "--ctl: '/proc/self/status' is not a directory");
  EXPECT_EQ(check({"--ctl", "/proc/self/status/d/x.sock"}),
            "--ctl: cannot create directory '/proc/self/status/d': Not a directory");
}

// What a start would fail on after reserving memory for seconds: more than the machine has.
TEST(CheckConfig, MemoryMustFitTheMachine) {
  EXPECT_EQ(check({"--memory", "4096"}, 2048), "--memory: 4096 MB is more than this machine's memory (2048 MB)");
  EXPECT_EQ(check({"--memory", "2048"}, 2048), "");
  EXPECT_EQ(check({"--port", "tap:a"}, 2048), "") << "the default sizing fits a small machine";
  const std::string big = check({"--mbufs", "4000000"}, 2048);
  EXPECT_EQ(big.find("the configuration needs about 12"), 0u) << big;  // 4M * 2.5 KB * 1.25
  EXPECT_NE(big.find("a pool of 4000000 mbufs, see --mbufs"), std::string::npos) << big;
  EXPECT_NE(big.find("more than this machine's 2048 MB"), std::string::npos) << big;
  const std::string fdb = check({"--fdb-size", "16777216"}, 1024);
  EXPECT_NE(fdb.find("(512 MB for DPDK"), std::string::npos) << fdb;
  EXPECT_NE(fdb.find("561 MB for an FDB of 16777216 entries"), std::string::npos) << fdb;
  EXPECT_EQ(check({"--mbufs", "4000000"}, 0), "") << "0: the machine's memory is unknown";
  EXPECT_GT(machine_memory_mb(), 0u);
}

// What a start would fail on once the ports are open: a pool that --memory cannot hold, more
// statics than the FDB holds; and statics that would silently replace each other.
TEST(CheckConfig, WhatAStartWouldRefuseLater) {
  EXPECT_EQ(check({"--port", "tap:a", "--memory", "64", "--mbufs", "100000"}),
            "--memory: 64 MB cannot hold the packet pool of 100000 mbufs (about 245 MB; see --mbufs)");
  EXPECT_EQ(check({"--port", "tap:a", "--memory", "64", "--mbufs", "8192"}), "");
  std::vector<std::string> args = {"--port", "tap:a", "--fdb-size", "16"};
  for (int i = 10; i < 26; ++i) args.insert(args.end(), {"--fdb-static", "02:00:00:00:00:" + std::to_string(i) + ",a"});
  EXPECT_EQ(check(args), "") << "16 statics fill an FDB of 16";
  args.insert(args.end(), {"--fdb-static", "02:00:00:00:00:99,a"});
  EXPECT_EQ(check(args), "--fdb-static: 17 static entries do not fit an FDB of 16 entries (see --fdb-size)");
  EXPECT_EQ(check({"--port", "tap:a", "--port", "tap:b", "--fdb-static", "02:00:00:00:00:01,a", "--fdb-static",
                   "02:00:00:00:00:01,b"}),
            "--fdb-static '02:00:00:00:00:01,b': the same MAC and VLAN is static on port 'a' already "
            "('02:00:00:00:00:01,a')");
  EXPECT_EQ(check({"--port", "tap:a", "--port", "tap:b", "--fdb-static", "02:00:00:00:00:01,a", "--fdb-static",
                   "02:00:00:00:00:01,b,7"}),
            "")
      << "another VLAN is another entry";
}

TEST(CheckConfig, DefaultEalArgumentsKeepTelemetry) {
  EalArgsInput in;
  in.allowed_cpus = {0, 1};
  in.file_prefix = "x";
  for (const auto& a : build_eal_args(in)) EXPECT_NE(a, "--no-telemetry");
}

class LogLevel : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = spdlog::get_level();
    add_log_commands(commands_);
    ASSERT_EQ(commands_.size(), 1u);
  }
  void TearDown() override { spdlog::set_level(saved_); }
  CommandOutput run(std::vector<std::string> args) { return commands_[0].run(args); }

  std::vector<Command> commands_;
  spdlog::level::level_enum saved_{};
};

TEST_F(LogLevel, ShowsAndSets) {
  EXPECT_EQ((commands_[0].words), (std::vector<std::string>{"log", "level"}));
  spdlog::set_level(spdlog::level::warn);
  EXPECT_EQ(run({}).data["level"], "warn");
  EXPECT_EQ(run({}).text, "log level warn\n");
  CommandOutput out = run({"debug"});
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_EQ(out.data["level"], "debug");
  EXPECT_EQ(out.data["previous"], "warn");
  for (const char* l : {"trace", "info", "error", "critical", "off", "warn"}) {
    run({l});
    EXPECT_EQ(run({}).data["level"], l);
  }
}

TEST_F(LogLevel, RejectsBadLevelsAndLeavesTheLevel) {
  spdlog::set_level(spdlog::level::warn);
  EXPECT_THROW(run({"loud"}), Error);
  EXPECT_THROW(run({"debug", "extra"}), Error);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
}

TEST(EventLoopLock, CallbacksRunUnderTheDispatchLock) {
  EventLoop loop;
  std::mutex lock;
  UniqueFd ev(::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC));
  int held_during = -1;
  loop.add(ev.get(), EPOLLIN, [&](uint32_t) {
    held_during = lock.try_lock() ? 0 : 1;
    if (held_during == 0) lock.unlock();
    uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(ev.get(), &v, sizeof v);
  });
  loop.run_once(100);
  EXPECT_EQ(held_during, 0);  // no lock set
  uint64_t one = 1;
  ASSERT_EQ(::write(ev.get(), &one, sizeof one), 8);
  loop.set_dispatch_lock(&lock);
  loop.run_once(100);
  EXPECT_EQ(held_during, 1);
  EXPECT_TRUE(lock.try_lock());  // released after the callback
  lock.unlock();
}

}  // namespace
}  // namespace tapswitch
