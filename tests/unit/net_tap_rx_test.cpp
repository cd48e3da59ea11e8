// A net_tap port reads its queue on every burst, without the signal DPDK 22.11's net_tap has the
// kernel send for each frame (ports/net_tap_rx_kick.h): the queue's fd no longer signals, and
// frames sent on the kernel side arrive in round after round (once net_tap has seen one signal,
// it reads again after a short burst only when its trigger moves, which only the port's kick
// does now).
//
// Uses a real net_tap device: needs root and /dev/net/tun, and is skipped without them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "eal_env.h"
#include "ports/ethdev_port.h"
#include "ports/port_spec.h"
#include "real_taps.h"

namespace tapswitch {
namespace {

constexpr uint8_t kFrame[60] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5};  // local experimental

bool is_test_frame(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return m->data_len >= 14 && p[12] == kFrame[12] && p[13] == kFrame[13];
}

TEST(NetTapRx, ReadsEveryBurstWithoutASignalPerFrame) {
  SKIP_WITHOUT_TAPS();
  const std::string ifname = "tntk" + std::to_string(::getpid() % 1000000);
  auto port = EthdevPort::open(
      parse_port_spec("dpdk:net_tap" + std::to_string(::getpid() % 100000) + ",iface=" + ifname), test::pool());
  const int fd = port->rx_notify_fd(0);
  ASSERT_GE(fd, 0) << "net_tap's rx interrupt fd is its queue's tun fd";
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_ASYNC, 0) << "the kernel no longer signals every frame";
  EXPECT_TRUE(port->rx_poll_costly(0)) << "an empty read is now a system call: the worker parks the queue";
  nlohmann::json d;
  port->describe(d);
  EXPECT_EQ(d.value("rx_signals", true), false);

  // A signal net_tap got before the port turned them off (a frame right after the device
  // started) arms its trigger: from then on it reads a queue after a short burst only when the
  // trigger moves. Send one, as the kernel would have.
  int signo = ::fcntl(fd, F_GETSIG);
  ASSERT_GE(signo, 0);
  ASSERT_EQ(::raise(signo ? signo : SIGIO), 0);

  ASSERT_EQ(std::system(("ip link set " + ifname + " up").c_str()), 0);
  test::KernelSide kernel(ifname);
  ASSERT_TRUE(kernel.ok()) << "packet socket on " << ifname << ": " << std::strerror(errno);

  for (int round = 0; round < 3; ++round) {
    constexpr int kPerRound = 4;
    for (int i = 0; i < kPerRound; ++i)
      ASSERT_EQ(kernel.send(kFrame, sizeof kFrame), static_cast<ssize_t>(sizeof kFrame));
    int got = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (got < kPerRound && std::chrono::steady_clock::now() < deadline) {
      rte_mbuf* pkts[32];
      const uint16_t n = port->rx_burst(0, pkts, 32);
      for (uint16_t i = 0; i < n; ++i) {
        got += is_test_frame(pkts[i]);
        rte_pktmbuf_free(pkts[i]);
      }
    }
    EXPECT_EQ(got, kPerRound) << "round " << round;
  }
}

}  // namespace
}  // namespace tapswitch
