// WakeAffinity on a real thread: pinned home, widened before a sleep, pinned home again after
// the home-coming delay; with nothing beyond home, or no wake set, it never touches the affinity.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <sys/sysinfo.h>

#include <thread>
#include <vector>

#include "base/cpus.h"
#include "switch/wake_affinity.h"

namespace tapswitch {
namespace {

// The online CPUs (the EAL has narrowed this thread's own affinity to its main lcore).
std::vector<unsigned> online() {
  std::vector<unsigned> out;
  for (int c = 0; c < get_nprocs(); ++c) out.push_back(static_cast<unsigned>(c));
  return out;
}

constexpr uint64_t kLongSleep = 20'000'000;  // ns: a sleep that ends no stay at home

// Runs fn on a new thread pinned to `cpu`.
template <class F>
void on_thread_pinned_to(unsigned cpu, F fn) {
  std::thread t([&] {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof s, &s), 0);
    fn();
  });
  t.join();
}

TEST(WakeAffinity, WidensBeforeSleepAndGoesHomeAfterTheDelay) {
  const std::vector<unsigned> cpus = online();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
  const unsigned home = cpus.back();
  on_thread_pinned_to(home, [&] {
    WakeAffinity a(cpus);
    a.start();
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), cpus) << "asleep, the worker may be woken on any of the wake CPUs";
    a.after_wake(kLongSleep);
    a.settle(0, ~0ull);  // not long enough awake (no time has passed)
    EXPECT_EQ(thread_cpus(), cpus);
    uint64_t now = ~0ull / 2;
    a.settle(now, 1);  // awake long enough
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home});
    EXPECT_FALSE(a.foreign());
    a.before_sleep();
    a.stop();
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home}) << "a stopped worker is pinned home";
  });
}

// A worker at home on the last online CPU whose wake set is every other CPU (--wake-cpu others).
class WakeAway : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<unsigned> cpus = online();
    if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
    home = cpus.back();
    others.assign(cpus.begin(), cpus.end() - 1);
  }
  // Started at home, then asleep with its wake set as affinity. (Call on the pinned thread.)
  WakeAffinity asleep() const {
    WakeAffinity a(others);
    a.start();
    a.before_sleep();
    return a;
  }
  unsigned home = 0;
  std::vector<unsigned> others;
};

TEST_F(WakeAway, AWakeSetWithoutHomeIsTakenAsItIs) {
  on_thread_pinned_to(home, [&] {
    WakeAffinity a = asleep();
    EXPECT_EQ(thread_cpus(), others) << "asleep, the worker may be woken only outside home";
    EXPECT_TRUE(a.after_wake(kLongSleep)) << "it runs outside home now";
    a.settle(~0ull / 2, 1);
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home});
  });
}

// Woken away after a short sleep, the worker goes home at once and sleeps there until a sleep
// lasts long enough to say the traffic paused: on the sender's CPU it would take turns with it.
TEST_F(WakeAway, BurstyTrafficKeepsTheWorkerHomeUntilAQuietSleep) {
  on_thread_pinned_to(home, [&] {
    WakeAffinity a = asleep();
    EXPECT_TRUE(a.after_wake(WakeAffinity::kShortSleepNs / 2)) << "woken away (counted)";
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home}) << "and home at once";
    EXPECT_FALSE(a.foreign());
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home}) << "it sleeps at home while traffic is bursty";
    EXPECT_FALSE(a.after_wake(WakeAffinity::kShortSleepNs - 1));
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home});
    EXPECT_FALSE(a.after_wake(WakeAffinity::kShortSleepNs));  // a quiet sleep: the traffic paused
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), others) << "after a quiet sleep it may be woken away again";
    a.stop();
  });
}

// One stray frame (a second flow) must not keep the worker home while a steady cadence of
// frames a couple of milliseconds apart lasts: a sleep between them ends the stay home.
TEST_F(WakeAway, AStrayFrameDoesNotKeepTheWorkerHomeThroughASteadyCadence) {
  on_thread_pinned_to(home, [&] {
    WakeAffinity a = asleep();
    EXPECT_TRUE(a.after_wake(WakeAffinity::kShortSleepNs / 10)) << "the stray frame: woken away at once";
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home});
    constexpr uint64_t kCadenceSleepNs = 1'500'000;  // pings every 2 ms, less the idle time before sleeping
    EXPECT_FALSE(a.after_wake(kCadenceSleepNs));
    a.before_sleep();
    EXPECT_EQ(thread_cpus(), others) << "the next ping of the cadence wakes it away again";
    a.stop();
  });
}

TEST(WakeSet, LeavesTheWorkersCpusOutIfAnyAreLeft) {
  EXPECT_EQ(wake_set({0, 1, 2, 3}, {1, 2}, true), (std::vector<unsigned>{0, 3}));
  EXPECT_EQ(wake_set({0, 1, 2, 3}, {1, 2}, false), (std::vector<unsigned>{0, 1, 2, 3}));
  EXPECT_EQ(wake_set({0, 1}, {0, 1}, true), (std::vector<unsigned>{0, 1})) << "every CPU is a worker's: any";
  EXPECT_EQ(wake_set({0, 1}, {}, true), (std::vector<unsigned>{0, 1}));
}

TEST(WakeAffinity, StaysHomeWithoutAnywhereElse) {
  const unsigned home = online().front();
  for (std::vector<unsigned> wake : {std::vector<unsigned>{}, std::vector<unsigned>{home}}) {
    on_thread_pinned_to(home, [&] {
      WakeAffinity a(wake);
      a.start();
      a.before_sleep();
      EXPECT_EQ(thread_cpus(), std::vector<unsigned>{home});
      EXPECT_FALSE(a.after_wake(kLongSleep));
    });
  }
}

}  // namespace
}  // namespace tapswitch
