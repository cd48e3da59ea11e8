// What a raw-fd tap receives (ports/tap_frames.h), on a real tap: each frame is read whole into
// a 64 KB buffer; a frame of up to an ordinary mbuf's room is copied into one, a longer one
// keeps its 64 KB buffer as one segment; a frame that fills the whole buffer (which the kernel
// may have cut short) is dropped and counted as oversize, never passed on truncated. Checked on
// both I/O paths, with frames sent on the tap's kernel side through a packet socket.
//
// Uses real taps: needs root and /dev/net/tun, and is skipped without them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eal_env.h"
#include "real_taps.h"
#include "ports/port.h"
#include "ports/port_spec.h"
#include "ports/tap_port.h"

namespace tapswitch {
namespace {

constexpr uint16_t kTestEtherType = 0x88b5;  // IEEE local experimental: nothing else sends it

// A frame of `len` bytes whose payload encodes its length, so a truncated or mixed-up frame shows.
std::vector<uint8_t> frame(uint32_t len) {
  std::vector<uint8_t> f(len);
  const uint8_t hdr[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, kTestEtherType >> 8, kTestEtherType & 0xff};
  std::copy(hdr, hdr + 14, f.begin());
  for (uint32_t i = 14; i < len; ++i) f[i] = static_cast<uint8_t>((i * 7 + len) & 0xff);
  return f;
}

std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> b(m->pkt_len);
  const auto* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, m->pkt_len, b.data()));
  if (p != nullptr && p != b.data()) std::copy(p, p + m->pkt_len, b.begin());
  return b;
}

// Opens this test's tap port (PREFIX + io + pid, with `opts`) on the io path, sets it up, and
// opens a packet socket on its kernel side. The caller returns if the test was skipped (no
// io_uring here) or failed.
void open_up_tap(const std::string& prefix, const std::string& opts, const std::string& io,
                 std::unique_ptr<TapPort>& port, std::unique_ptr<test::KernelSide>& kernel) {
  const std::string name = prefix + io.substr(0, 2) + std::to_string(::getpid() % 1000000);
  port = TapPort::open(parse_port_spec("tap:" + name + "," + opts + ",io=" + io), test::pool());
  if (io == "uring" && port->rx_io() != TapIo::uring) GTEST_SKIP() << "io_uring is not available here";
  ASSERT_EQ(std::system(("ip link set " + name + " up").c_str()), 0);
  kernel = std::make_unique<test::KernelSide>(name);
  ASSERT_TRUE(kernel->ok()) << "packet socket on " << name << ": " << std::strerror(errno);
}

bool stopped() { return ::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure(); }

void check_rx(const std::string& io) {
  std::unique_ptr<TapPort> port;
  std::unique_ptr<test::KernelSide> k;
  open_up_tap("tirx", "mtu=65521", io, port, k);  // 65521: the largest MTU tun allows (65535 less the Ethernet header)
  if (stopped()) return;
  const test::KernelSide& kernel = *k;

  const uint32_t room = rte_pktmbuf_data_room_size(test::pool().get()) - RTE_PKTMBUF_HEADROOM;
  const uint32_t largest = UINT16_MAX - RTE_PKTMBUF_HEADROOM - 1;  // a 64 KB buffer, headroom kept
  const std::vector<uint32_t> whole = {60, room, room + 1, 9014, largest};
  const uint64_t oversize0 = port->stats().rx_oversize;
  for (uint32_t len : whole) {
    auto f = frame(len);
    ASSERT_EQ(kernel.send(f.data(), f.size()), static_cast<ssize_t>(len))
        << "sending " << len << " bytes: " << std::strerror(errno);
  }
  // One byte more fills the buffer exactly, 100 more is cut short by the kernel: both must be
  // dropped and counted, never passed on.
  for (uint32_t len : {largest + 1, largest + 100}) {
    auto cut = frame(len);
    ASSERT_EQ(kernel.send(cut.data(), cut.size()), static_cast<ssize_t>(len));
  }
  auto last = frame(61);  // proves the port reads on after the drop
  ASSERT_EQ(kernel.send(last.data(), last.size()), 61);

  std::vector<uint32_t> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got.size() < whole.size() + 1 && std::chrono::steady_clock::now() < deadline) {
    rte_mbuf* pkts[32];
    const uint16_t n = port->rx_burst(0, pkts, 32);
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
      if (m->data_len >= 14 && p[12] == (kTestEtherType >> 8) && p[13] == (kTestEtherType & 0xff)) {
        got.push_back(m->pkt_len);
        EXPECT_EQ(m->nb_segs, 1) << m->pkt_len << "-byte frame: one segment";
        EXPECT_EQ(bytes_of(m), frame(m->pkt_len)) << m->pkt_len << "-byte frame: content";
        if (m->pkt_len <= room)
          EXPECT_EQ(m->pool, test::pool().get()) << m->pkt_len << "-byte frame: copied into an ordinary mbuf";
        else
          EXPECT_NE(m->pool, test::pool().get()) << m->pkt_len << "-byte frame: kept in its 64 KB buffer";
      }
      rte_pktmbuf_free(m);
    }
  }
  std::vector<uint32_t> want = whole;
  want.push_back(61);
  EXPECT_EQ(got, want) << "frames up to " << largest << " bytes arrive whole and in order; the longer one does not";
  EXPECT_EQ(port->stats().rx_oversize - oversize0, 2u) << "the frames that filled the buffer are counted";
  port->rx_release(0);
}

TEST(TapRx, WholeFramesAndTheLimitOnReadWrite) {
  SKIP_WITHOUT_TAPS();
  check_rx("syscall");
}

TEST(TapRx, WholeFramesAndTheLimitOnIoUring) {
  SKIP_WITHOUT_TAPS();
  check_rx("uring");
}

// With every 64 KB buffer of the port held (frames read but not yet sent on), the port puts its
// reads off: the frames wait in the tap's queue, counted as rx_paused and not as a drop, and
// arrive, all and in order, once buffers come back.
void check_paused(const std::string& io) {
  std::unique_ptr<TapPort> port;
  std::unique_ptr<test::KernelSide> k;
  open_up_tap("tirp", "mtu=9000", io, port, k);
  if (stopped()) return;
  const test::KernelSide& kernel = *k;

  constexpr uint32_t kFrames = 200;  // more than the port's 64 KB buffers
  for (uint32_t i = 0; i < kFrames; ++i) {
    auto f = frame(3000 + i);  // longer than an ordinary mbuf: each keeps a 64 KB buffer
    ASSERT_EQ(kernel.send(f.data(), f.size()), static_cast<ssize_t>(f.size()));
  }
  std::vector<rte_mbuf*> held;
  auto read_all = [&] {  // until 100 ms pass without a frame
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    while (std::chrono::steady_clock::now() < deadline) {
      rte_mbuf* pkts[32];
      const uint16_t n = port->rx_burst(0, pkts, 32);
      if (n) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
      for (uint16_t i = 0; i < n; ++i) {
        const uint8_t* p = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
        if (pkts[i]->data_len >= 14 && p[12] == (kTestEtherType >> 8) && p[13] == (kTestEtherType & 0xff))
          held.push_back(pkts[i]);
        else
          rte_pktmbuf_free(pkts[i]);
      }
    }
  };
  read_all();
  const size_t first = held.size();
  ASSERT_GT(first, 0u);
  ASSERT_LT(first, kFrames) << "the port has more 64 KB buffers than this test assumes";
  PortStats s = port->stats();
  EXPECT_EQ(s.rx_paused, 1u) << "one stop while every buffer is held, however often the port was polled";
  EXPECT_EQ(s.rx_nombuf, 0u) << "nothing was dropped for want of buffers";
  std::vector<uint32_t> got;
  for (rte_mbuf* m : held) {
    got.push_back(m->pkt_len);
    rte_pktmbuf_free(m);
  }
  held.clear();
  while (got.size() < kFrames) {  // the buffers come back a batch at a time, as sends complete
    const size_t before = got.size();
    read_all();
    for (rte_mbuf* m : held) {
      got.push_back(m->pkt_len);
      rte_pktmbuf_free(m);
    }
    held.clear();
    if (got.size() == before) break;
  }
  std::vector<uint32_t> want;
  for (uint32_t i = 0; i < kFrames; ++i) want.push_back(3000 + i);
  EXPECT_EQ(got, want) << "every frame arrives, in order, once buffers are back (" << first << " before)";
  EXPECT_EQ(port->stats().rx_nombuf, 0u);
  port->rx_release(0);
}

TEST(TapRx, EmptyPoolPausesReadsWithoutDropping) {
  SKIP_WITHOUT_TAPS();
  check_paused("syscall");
}

TEST(TapRx, EmptyPoolPausesReadsWithoutDroppingOnIoUring) {
  SKIP_WITHOUT_TAPS();
  check_paused("uring");
}

// A queue whose worker changes (a re-plan after `port add` with several workers) keeps io_uring:
// the worker that had it releases it, and the next one receives on a ring of its own. (The
// ring is bound to one thread: without the release, the second thread's first receive failed
// and the port fell back to read() for good.)
TEST(TapRx, AQueueMovedToAnotherThreadKeepsIoUring) {
  SKIP_WITHOUT_TAPS();
  std::unique_ptr<TapPort> port;
  std::unique_ptr<test::KernelSide> k;
  open_up_tap("tirm", "mtu=1500", "uring", port, k);
  if (stopped()) return;
  auto receive_one = [&](uint32_t len) {  // sends a frame of len bytes; true once it is read
    auto f = frame(len);
    if (k->send(f.data(), f.size()) != static_cast<ssize_t>(f.size())) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      rte_mbuf* pkts[32];
      const uint16_t n = port->rx_burst(0, pkts, 32);
      for (uint16_t i = 0; i < n; ++i) {
        seen = seen || bytes_of(pkts[i]) == f;
        rte_pktmbuf_free(pkts[i]);
      }
    }
    return seen;
  };
  EXPECT_TRUE(receive_one(100));
  port->rx_release(0);  // as a worker does when a re-plan gives the queue to another
  bool seen = false;
  TapIo io = TapIo::automatic;
  std::thread other([&] {
    seen = receive_one(101);
    port->rx_release(0);
    io = port->rx_io();
  });
  other.join();
  EXPECT_TRUE(seen) << "the frame did not arrive on the queue's new thread";
  EXPECT_EQ(io, TapIo::uring) << "the queue fell back to read() on its new thread";
  EXPECT_TRUE(receive_one(102)) << "and back on the first thread";
  EXPECT_EQ(port->rx_io(), TapIo::uring);
}

}  // namespace
}  // namespace tapswitch
