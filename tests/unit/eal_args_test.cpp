#include <gtest/gtest.h>

#include <algorithm>

#include "base/error.h"
#include "dpdk/eal_args.h"
#include "dpdk/log_bridge.h"

namespace tapswitch {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SplitWords, PlainAndQuoted) {
  EXPECT_EQ(split_words("  -m 256   --vdev 'net_tap0,iface=a b' \"x y\" "),
            (std::vector<std::string>{"-m", "256", "--vdev", "net_tap0,iface=a b", "x y"}));
  EXPECT_TRUE(split_words("").empty());
  EXPECT_EQ(split_words("''"), (std::vector<std::string>{""}));
  EXPECT_THROW(split_words("'open"), Error);
}

TEST(FormatCpuset, RangesAndSingles) {
  EXPECT_EQ(format_cpuset({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(format_cpuset({5}), "5");
  EXPECT_EQ(format_cpuset({3, 1, 1, 2}), "1-3");
}

TEST(EalArgs, DefaultsWorkWithoutHugepagesOrNics) {
  EalArgsInput in;
  in.allowed_cpus = {0, 1};
  in.file_prefix = "tapswitch-42";
  in.memory_mb = 256;
  auto a = build_eal_args(in);
  EXPECT_TRUE(has(a, "--no-huge"));
  EXPECT_TRUE(has(a, "--no-pci"));
  EXPECT_TRUE(has(a, "--no-shconf"));
  EXPECT_TRUE(has(a, "256"));
  EXPECT_TRUE(has(a, "--file-prefix=tapswitch-42"));
  EXPECT_TRUE(has(a, "--lcores=0@(0-1),1@(0-1)"));
}

TEST(EalArgs, PinnedWorkers) {
  EalArgsInput in;
  in.allowed_cpus = {0, 1, 2, 3};
  in.workers = 2;
  in.worker_cpus = {2, 3};
  in.file_prefix = "p";
  EXPECT_TRUE(has(build_eal_args(in), "--lcores=0@(0-3),1@(2),2@(3)"));
}

TEST(EalArgs, UserArgumentsReplaceTheDefaults) {
  EalArgsInput in;
  in.user = "--no-huge -m 1024 -l 0-2 --file-prefix=mine";
  in.allowed_cpus = {0, 1};
  in.file_prefix = "auto";
  auto a = build_eal_args(in);
  EXPECT_EQ(a, (std::vector<std::string>{"--no-huge", "-m", "1024", "-l", "0-2", "--file-prefix=mine"}));
}

TEST(EalArgs, UserArgumentsGetLcoresAndPrefixWhenMissing) {
  EalArgsInput in;
  in.user = "--no-huge --no-pci";
  in.allowed_cpus = {0};
  in.file_prefix = "auto";
  auto a = build_eal_args(in);
  EXPECT_TRUE(has(a, "--lcores=0@(0),1@(0)"));
  EXPECT_TRUE(has(a, "--file-prefix=auto"));
  EXPECT_FALSE(has(a, "--no-shconf"));
}

TEST(LogBridge, KnownHarmlessDpdkMessages) {
  EXPECT_TRUE(dpdk_message_is_benign("qdisc_create_multiq(): Could not add multiq qdisc (2)"));
  EXPECT_TRUE(dpdk_message_is_benign("tap_mp_req_on_rxtx(): Failed to send start req to secondary 95"));
  EXPECT_FALSE(dpdk_message_is_benign("EAL: Cannot allocate memory"));
}

}  // namespace
}  // namespace tapswitch
