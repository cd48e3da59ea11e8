// Worker plans: a worker tells a port when one of its rx queues leaves the worker's plan
// (Port::rx_release), and only then, so a removed port can let go of its pending reads on the
// thread that made them. Exercised through Worker::publish on a worker that is not launched,
// which adopts the plan on the calling thread, as the running worker does at housekeeping.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "fake_port.h"
#include "tests/unit/eal_env.h"
#include "switch/worker.h"

namespace tapswitch {
namespace {

using test::FakePort;
using Queues = std::vector<uint16_t>;

std::unique_ptr<WorkerPlan> plan_of(std::vector<RxAssignment> rx) {
  auto p = std::make_unique<WorkerPlan>();
  p->rx = std::move(rx);
  return p;
}

TEST(WorkerPlanChange, QueuesThatLeaveThePlanAreReleasedOnce) {
  Fdb fdb{FdbConfig{}};
  Worker w(0, 0, fdb, PollMode::adaptive, test::pool().get());
  FakePort a("a"), b("b");
  w.publish(plan_of({{0, &a, 0}, {0, &a, 1}, {1, &b, 0}}));
  EXPECT_EQ(a.released, Queues{});
  EXPECT_EQ(b.released, Queues{});

  // Same queues again (a port added elsewhere): nothing is released.
  w.publish(plan_of({{1, &b, 0}, {0, &a, 1}, {0, &a, 0}}));
  EXPECT_EQ(a.released, Queues{});

  // Queue 0 of a moves away; a's queue 1 and b stay.
  w.publish(plan_of({{0, &a, 1}, {1, &b, 0}}));
  EXPECT_EQ(a.released, Queues{0});
  EXPECT_EQ(b.released, Queues{});

  // Everything goes.
  w.publish(plan_of({}));
  EXPECT_EQ(a.released, (Queues{0, 1}));
  EXPECT_EQ(b.released, Queues{0});
}

}  // namespace
}  // namespace tapswitch
