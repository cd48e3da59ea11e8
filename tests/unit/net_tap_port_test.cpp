// net_tap ports on a real net_tap device.
//
// Rx: a net_tap port reads its queue on every burst, without the signal DPDK 22.11's net_tap has the
// kernel send for each frame (ports/net_tap_rx_kick.h): the queue's fd no longer signals, and
// frames sent on the kernel side arrive in round after round (once net_tap has seen one signal,
// it reads again after a short burst only when its trigger moves, which only the port's kick
// does now).
//
// Tx: a frame net_tap cannot send because its interface is down is the port's to drop and count,
// once, as tx_link_down: tx_burst takes the whole burst, and nothing is left for the caller to
// count again as tx_full (net_tap itself would count each such frame in oerrors, some twice).
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
#include <memory>
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

// A net_tap port on a kernel interface named `prefix` + this process's id.
std::unique_ptr<EthdevPort> open_net_tap(const std::string& prefix, int unit, std::string& ifname) {
  ifname = prefix + std::to_string(::getpid() % 1000000);
  return EthdevPort::open(parse_port_spec("dpdk:net_tap" + std::to_string(unit) + ",iface=" + ifname), test::pool());
}

TEST(NetTapRx, ReadsEveryBurstWithoutASignalPerFrame) {
  SKIP_WITHOUT_TAPS();
  std::string ifname;
  auto port = open_net_tap("tntk", 101, ifname);
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

TEST(NetTapTx, FramesToADownInterfaceAreCountedOnceAsLinkDown) {
  SKIP_WITHOUT_TAPS();
  std::string ifname;
  auto port = open_net_tap("tntd", 102, ifname);
  ASSERT_EQ(std::system(("ip link set " + ifname + " down").c_str()), 0);
  const unsigned baseline = test::pool().in_use();
  const PortStats before = port->stats();

  constexpr uint16_t kFrames = 40;
  rte_mbuf* pkts[kFrames];
  for (rte_mbuf*& m : pkts) {
    m = rte_pktmbuf_alloc(test::pool().get());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, sizeof kFrame), kFrame, sizeof kFrame);
  }
  EXPECT_EQ(port->tx_burst(0, pkts, kFrames), kFrames) << "the port takes what the kernel refused";
  const PortStats after = port->stats();
  EXPECT_EQ(after.tx_link_down - before.tx_link_down, kFrames);
  EXPECT_EQ(after.tx_errors - before.tx_errors, 0u);
  EXPECT_EQ(after.tx_packets - before.tx_packets, 0u);
  EXPECT_EQ(test::pool().in_use(), baseline) << "and frees it";
}

}  // namespace
}  // namespace tapswitch
