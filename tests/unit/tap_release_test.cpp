// A raw-fd tap lets go of its tun file as soon as the port is destroyed, once the thread that
// received on it has released its queues (Port::rx_release): a created tap's interface is gone
// when the destructor returns, so its name can be taken again at once (by a net_tap, say).
// Without the release, io_uring's armed poll keeps the tun file open for up to tens of
// milliseconds after the ring is closed (ports/tap_uring.h).
//
// Uses real taps: needs root and /dev/net/tun, and is skipped without them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <string>

#include "eal_env.h"
#include "real_taps.h"
#include "ports/port_spec.h"
#include "ports/tap_port.h"

namespace tapswitch {
namespace {

bool interface_exists(const std::string& name) {
  struct stat st;
  return ::stat(("/sys/class/net/" + name).c_str(), &st) == 0;
}

void check_released(const std::string& options) {
  const std::string name = "tiurel" + std::to_string(::getpid() % 1000000);
  for (int i = 0; i < 20; ++i) {
    auto port = TapPort::open(parse_port_spec("tap:" + name + options), test::pool());
    if (port->rx_io() != TapIo::uring) GTEST_SKIP() << "io_uring is not available here";
    rte_mbuf* pkts[32];
    for (uint16_t q = 0; q < port->rx_queues(); ++q) {
      // The first receive binds the queue's ring to this thread and arms its poll.
      EXPECT_EQ(port->rx_burst(q, pkts, 32), 0);
      port->rx_release(q);
    }
    port.reset();
    ASSERT_FALSE(interface_exists(name)) << "round " << i << ": " << name << " outlived its port";
  }
}

TEST(TapRelease, InterfaceGoneWhenThePortIs) {
  SKIP_WITHOUT_TAPS();
  check_released(",io=uring");
}

TEST(TapRelease, EveryQueueOfAMultiQueueTap) {
  SKIP_WITHOUT_TAPS();
  check_released(",io=uring,queues=3");
}

TEST(TapRelease, AQueueReceivesAgainAfterARelease) {
  SKIP_WITHOUT_TAPS();
  const std::string name = "tiureb" + std::to_string(::getpid() % 1000000);
  auto port = TapPort::open(parse_port_spec("tap:" + name + ",io=uring"), test::pool());
  if (port->rx_io() != TapIo::uring) GTEST_SKIP() << "io_uring is not available here";
  rte_mbuf* pkts[32];
  EXPECT_EQ(port->rx_burst(0, pkts, 32), 0);
  port->rx_release(0);
  EXPECT_EQ(port->rx_burst(0, pkts, 32), 0);
  EXPECT_EQ(port->rx_io(), TapIo::uring) << "a released queue must keep its io_uring path";
}

}  // namespace
}  // namespace tapswitch
