// DpdkLogCapture: DPDK messages held back during a call, then named, replayed or demoted.
#include <rte_log.h>

#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "dpdk/log_bridge.h"

namespace tapswitch {
namespace {

// Routes spdlog into a string ("LEVEL message" per line) for the life of the fixture.
class LogBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_DEBUG);
  }
  void TearDown() override { spdlog::set_default_logger(saved_); }

  static void dpdk(uint32_t level, const char* msg) { rte_log(level, RTE_LOGTYPE_USER1, "%s\n", msg); }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> saved_;
};

TEST_F(LogBridgeTest, WithoutCaptureMessagesAreLoggedAtTheirLevel) {
  dpdk(RTE_LOG_WARNING, "a warning");
  EXPECT_EQ(out_.str(), "warning dpdk: a warning\n");
}

TEST_F(LogBridgeTest, CaptureNamesTheFirstWarningAndDemotesTheRestToDebug) {
  {
    DpdkLogCapture cap;
    dpdk(RTE_LOG_INFO, "probing");
    dpdk(RTE_LOG_WARNING, "Unable to set TUNSETIFF for x: Invalid argument");
    dpdk(RTE_LOG_ERR, "Unable to create TAP interface");
    EXPECT_EQ(out_.str(), "");
    EXPECT_EQ(cap.reason(), "Unable to set TUNSETIFF for x: Invalid argument");
  }
  EXPECT_EQ(out_.str(),
            "debug dpdk: probing\n"
            "debug dpdk: Unable to set TUNSETIFF for x: Invalid argument\n"
            "debug dpdk: Unable to create TAP interface\n");
}

TEST_F(LogBridgeTest, ReplayLogsAtTheOriginalLevels) {
  {
    DpdkLogCapture cap;
    dpdk(RTE_LOG_NOTICE, "a notice");
    dpdk(RTE_LOG_WARNING, "a warning");
    EXPECT_EQ(cap.reason(), "a warning");
    cap.replay();
  }
  EXPECT_EQ(out_.str(), "info dpdk: a notice\nwarning dpdk: a warning\n");
}

TEST_F(LogBridgeTest, NoReasonWithoutAWarningAndCapturesNest) {
  DpdkLogCapture outer;
  {
    DpdkLogCapture inner;
    dpdk(RTE_LOG_INFO, "inner");
    EXPECT_EQ(inner.reason(), "");
  }
  dpdk(RTE_LOG_ERR, "outer");
  EXPECT_EQ(outer.reason(), "outer");
  EXPECT_EQ(out_.str(), "debug dpdk: inner\n");
}

}  // namespace
}  // namespace tapswitch
