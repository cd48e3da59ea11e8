// Parking (Port::rx_poll_costly): a running worker stops calling rx_burst on a queue whose empty
// reads cost a system call, and calls it again as soon as the queue's notification fd polls
// readable, so no frame waits and no idle queue costs a read per loop. Runs a real worker on a
// second EAL lcore, against a port whose fd is an eventfd that is readable exactly while frames
// wait (as a tap fd is).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "eal_env.h"
#include "frames.h"
#include "switch/worker.h"

namespace tapswitch {
namespace {

using namespace std::chrono_literals;

class NotifyingPort final : public Port {
 public:
  NotifyingPort(std::string name, bool costly)
      : Port(std::move(name), PortKind::tap), costly_(costly), efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~NotifyingPort() override {
    for (auto* m : q_) rte_pktmbuf_free(m);
    ::close(efd_);
  }

  // Test thread: frames arrive (all at once); the fd turns readable.
  void arrive(std::initializer_list<rte_mbuf*> ms) {
    std::lock_guard<std::mutex> g(mu_);
    for (rte_mbuf* m : ms) q_.push_back(m);
    uint64_t one = 1;
    (void)!::write(efd_, &one, sizeof one);
  }
  void arrive(rte_mbuf* m) { arrive({m}); }

  uint16_t rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept override {
    calls.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(mu_);
    uint16_t k = 0;
    while (k < n && !q_.empty()) {
      pkts[k++] = q_.front();
      q_.pop_front();
    }
    if (q_.empty()) {  // nothing left: the fd stops polling readable
      uint64_t v;
      (void)!::read(efd_, &v, sizeof v);
    }
    taken.fetch_add(k, std::memory_order_relaxed);
    return k;
  }
  uint16_t tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept override {
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
  }
  int rx_notify_fd(uint16_t) const noexcept override { return efd_; }
  bool rx_poll_costly(uint16_t) const noexcept override { return costly_; }
  LinkState link() const override { return {true, 0}; }
  PortStats stats() const override { return {}; }
  void describe(nlohmann::json&) const override {}

  std::atomic<uint64_t> calls{0}, taken{0};

 private:
  bool costly_;
  int efd_;
  std::mutex mu_;
  std::deque<rte_mbuf*> q_;
};

template <class F>
bool eventually(F f) {
  for (int i = 0; i < 400; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

rte_mbuf* frame() { return test::make_frame(test::kBroadcast, test::mac("02:00:00:00:00:01")); }

// A busy-polling worker on the second EAL lcore over two ports: one whose empty reads are
// costly, one whose are not.
class CostlyAndCheap : public ::testing::Test {
 protected:
  void SetUp() override {
    const unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    if (lcore >= RTE_MAX_LCORE) GTEST_SKIP() << "the unit tests' EAL has no worker lcore";
    w_ = std::make_unique<Worker>(0, lcore, fdb_, PollMode::busy, test::pool().get());
    auto plan = std::make_unique<WorkerPlan>();
    plan->rx = {{0, &costly_, 0}, {1, &cheap_, 0}};
    plan->tx = {{0, &costly_, 0}, {1, &cheap_, 0}};
    w_->publish(std::move(plan));
    w_->launch();
  }
  void TearDown() override {
    if (w_) w_->stop_and_wait();
  }

  Fdb fdb_{FdbConfig{}};
  NotifyingPort costly_{"costly", true}, cheap_{"cheap", false};
  std::unique_ptr<Worker> w_;
};

TEST_F(CostlyAndCheap, AnIdleCostlyQueueIsParkedAndWokenByItsFd) {
  NotifyingPort &costly = costly_, &cheap = cheap_;
  // Parked after its first empty read, while the cheap queue keeps being polled.
  ASSERT_TRUE(eventually([&] { return cheap.calls.load() > 1000; }));
  const uint64_t parked_at = costly.calls.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(costly.calls.load(), parked_at) << "an idle costly queue must not be read every loop";
  EXPECT_LE(parked_at, 2u);

  // Frames arrive: the fd polls readable, the queue is read, all of them are taken.
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 40; ++i) costly.arrive(frame());
    ASSERT_TRUE(eventually([&] { return costly.taken.load() == 40u * round; }))
        << "round " << round << ": " << costly.taken.load() << " frames taken";
    // And it parks again.
    const uint64_t after = costly.calls.load();
    std::this_thread::sleep_for(30ms);
    EXPECT_LE(costly.calls.load(), after + 1) << "round " << round;
  }
}

// A burst that comes back short ended on an empty read: the queue is parked at once, without
// a second, empty read in the next loop (a system call per burst on a real tap).
TEST_F(CostlyAndCheap, AShortBurstParksTheQueueWithoutAnotherRead) {
  NotifyingPort &costly = costly_, &cheap = cheap_;
  ASSERT_TRUE(eventually([&] { return cheap.calls.load() > 1000; }));  // running, costly parked
  for (int round = 1; round <= 20; ++round) {
    const uint64_t before = costly.calls.load();
    costly.arrive({frame(), frame(), frame(), frame(), frame()});
    ASSERT_TRUE(eventually([&] { return costly.taken.load() == 5u * round; }));
    std::this_thread::sleep_for(5ms);
    EXPECT_EQ(costly.calls.load(), before + 1) << "round " << round << ": one read for five frames, then parked";
  }
}

// After an adaptive sleep the worker reads only the queues epoll reported: with many idle taps,
// reading each once after every wake-up would delay the frame that woke it.
TEST(WorkerParking, AWokenWorkerReadsOnlyTheQueueThatHasFrames) {
  const unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
  if (lcore >= RTE_MAX_LCORE) GTEST_SKIP() << "the unit tests' EAL has no worker lcore";
  constexpr unsigned kPorts = 16;
  Fdb fdb{FdbConfig{}};
  std::vector<std::unique_ptr<NotifyingPort>> ports;
  auto plan = std::make_unique<WorkerPlan>();
  for (uint16_t i = 0; i < kPorts; ++i) {
    ports.push_back(std::make_unique<NotifyingPort>("p" + std::to_string(i), true));
    plan->rx.push_back({i, ports.back().get(), 0});
    plan->tx.push_back({i, ports.back().get(), 0});
  }
  Worker w(0, lcore, fdb, PollMode::adaptive, test::pool().get());
  w.publish(std::move(plan));
  w.launch();
  for (int round = 1; round <= 3; ++round) {
    const uint64_t slept = w.counters().sleeps.get();
    ASSERT_TRUE(eventually([&] { return w.counters().sleeps.get() > slept; })) << "round " << round;
    std::vector<uint64_t> before;
    for (auto& p : ports) before.push_back(p->calls.load());
    NotifyingPort& in = *ports[static_cast<unsigned>(round) % kPorts];
    in.arrive(frame());
    ASSERT_TRUE(eventually([&] { return in.taken.load() == 1; })) << "round " << round;
    // Until it sleeps again (and after), the others are not read: their fds never polled readable.
    ASSERT_TRUE(eventually([&] { return w.counters().sleeps.get() > slept + 1; })) << "round " << round;
    for (unsigned i = 0; i < kPorts; ++i) {
      if (ports[i].get() != &in) {
        EXPECT_EQ(ports[i]->calls.load(), before[i]) << "round " << round << ", port " << i;
      }
    }
  }
  w.stop_and_wait();
}

// A queue whose fd polls in error for ever (a tap whose interface was deleted: tun polls
// EPOLLERR, and it cannot be armed) must not turn the adaptive worker's sleeps into a spin.
class BrokenPort final : public Port {
 public:
  BrokenPort() : Port("broken", PortKind::tap) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      rfd_ = fds[0];
      ::close(fds[1]);  // the read end now polls EPOLLHUP for ever
    }
  }
  ~BrokenPort() override { ::close(rfd_); }
  uint16_t rx_burst(uint16_t, rte_mbuf**, uint16_t) noexcept override { return 0; }
  uint16_t tx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) noexcept override {
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
  }
  int rx_notify_fd(uint16_t) const noexcept override { return rfd_; }
  bool rx_notify_arm(uint16_t) noexcept override { return false; }
  bool rx_poll_costly(uint16_t) const noexcept override { return true; }
  LinkState link() const override { return {false, 0}; }
  PortStats stats() const override { return {}; }
  void describe(nlohmann::json&) const override {}

 private:
  int rfd_ = -1;
};

TEST(WorkerParking, AnFdInErrorDoesNotMakeTheWorkerSpin) {
  const unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
  if (lcore >= RTE_MAX_LCORE) GTEST_SKIP() << "the unit tests' EAL has no worker lcore";
  Fdb fdb{FdbConfig{}};
  BrokenPort broken;
  NotifyingPort ok("ok", true);
  Worker w(0, lcore, fdb, PollMode::adaptive, test::pool().get());
  auto plan = std::make_unique<WorkerPlan>();
  plan->rx = {{0, &broken, 0}, {1, &ok, 0}};
  plan->tx = {{0, &broken, 0}, {1, &ok, 0}};
  w.publish(std::move(plan));
  w.launch();
  ASSERT_TRUE(eventually([&] { return w.counters().sleeps.get() > 2; }));
  const uint64_t s0 = w.counters().sleeps.get();
  std::this_thread::sleep_for(200ms);
  // Backing off, it sleeps a few hundred times in 200 ms (measured: under 200); woken at once
  // by the fd in error, it would "sleep" hundreds of thousands of times (measured: 225,000).
  const uint64_t slept = w.counters().sleeps.get() - s0;
  EXPECT_LT(slept, 5000u) << "the worker spun instead of sleeping";
  ok.arrive(frame());
  EXPECT_TRUE(eventually([&] { return ok.taken.load() == 1; })) << "the healthy queue is still served";
  w.stop_and_wait();
}

}  // namespace
}  // namespace tapswitch
