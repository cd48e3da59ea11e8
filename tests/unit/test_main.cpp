#include <unistd.h>

#include <memory>

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <spdlog/spdlog.h>

#include "dpdk/eal.h"
#include "tests/unit/eal_env.h"

namespace tapswitch::test {

namespace {
std::unique_ptr<Eal> g_eal;
std::unique_ptr<PktPool> g_pool;
std::unique_ptr<PktPool> g_big_pool;
}  // namespace

PktPool& pool() { return *g_pool; }
PktPool& big_pool() { return *g_big_pool; }

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_eal = std::make_unique<Eal>(std::vector<std::string>{
        "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "256",
        // A second lcore, on the same CPU, for the tests that run a worker.
        "--lcores=0@(0),1@(0)",
        "--log-level=*:error", "--file-prefix=unit-" + std::to_string(::getpid())});
    g_pool = std::make_unique<PktPool>("unit", 8192, RTE_MBUF_DEFAULT_BUF_SIZE);
    g_big_pool = std::make_unique<PktPool>("unit-big", 256, UINT16_MAX);
  }
  void TearDown() override {
    g_big_pool.reset();
    g_pool.reset();
    g_eal.reset();
  }
};

}  // namespace tapswitch::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  spdlog::set_level(spdlog::level::warn);
  ::testing::AddGlobalTestEnvironment(new tapswitch::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
