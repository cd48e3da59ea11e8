// Data-plane plumbing without lcores: rx-queue placement, tx routes, data-plane options, and
// frames handed between two workers' forwarders through a tx ring.
#include <gtest/gtest.h>

#include <rte_ring.h>

#include <set>

#include "base/error.h"
#include "dpdk/ring.h"
#include "switch/config.h"
#include "switch/forwarder.h"
#include "switch/rxq_assign.h"
#include "switch/wakeup.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fake_port.h"
#include "tests/unit/frames.h"

namespace tapswitch::test {
namespace {

std::vector<PortQueues> four_ports() {
  return {{0, "a", 1, 1}, {1, "b", 2, 2}, {2, "c", 1, 1}, {3, "d", 4, 4}};
}

TEST(RxPlacement, EveryQueueBelongsToExactlyOneWorkerAndLoadIsEven) {
  RxPlacement p = place_rx_queues(four_ports(), 2, {});
  EXPECT_EQ(p.size(), 8u);
  unsigned load[2] = {0, 0};
  for (const auto& [key, w] : p) {
    ASSERT_LT(w, 2u);
    ++load[w];
  }
  EXPECT_EQ(load[0], 4u);
  EXPECT_EQ(load[1], 4u);
  // Round-robin in port order.
  EXPECT_EQ(p.at({0, 0}), 0u);
  EXPECT_EQ(p.at({1, 0}), 1u);
  EXPECT_EQ(p.at({1, 1}), 0u);
}

TEST(RxPlacement, PinsAreHonoured) {
  RxPlacement p = place_rx_queues(four_ports(), 2, {{"d", 3, 0}, {"a", 0, 1}});
  EXPECT_EQ(p.at({3, 3}), 0u);
  EXPECT_EQ(p.at({0, 0}), 1u);
}

TEST(RxPlacement, BadPinsAreErrors) {
  EXPECT_THROW(place_rx_queues(four_ports(), 2, {{"zz", 0, 0}}), Error);
  EXPECT_THROW(place_rx_queues(four_ports(), 2, {{"a", 1, 0}}), Error);
  EXPECT_THROW(place_rx_queues(four_ports(), 2, {{"a", 0, 2}}), Error);
}

TEST(RxPlacement, AddingAPortMovesNoExistingQueue) {
  auto ports = four_ports();
  RxPlacement before = place_rx_queues(ports, 3, {});
  ports.push_back({7, "e", 2, 2});
  RxPlacement after = place_rx_queues(ports, 3, {}, before);
  for (const auto& [key, w] : before) EXPECT_EQ(after.at(key), w);
  EXPECT_EQ(after.size(), before.size() + 2);
  // Removing it again leaves the others in place too.
  ports.pop_back();
  RxPlacement again = place_rx_queues(ports, 3, {}, after);
  EXPECT_EQ(again, before);
}

TEST(TxRoute, NoTwoWorkersShareATxQueue) {
  for (uint16_t txq : {1, 2, 3}) {
    PortQueues p{0, "p", txq, txq};
    std::map<uint16_t, std::set<unsigned>> senders;  // queue -> threads calling tx_burst on it
    for (unsigned w = 0; w < 5; ++w) {
      TxRoute r = tx_route(p, w);
      ASSERT_LT(r.queue, txq);
      senders[r.queue].insert(r.sender);
      if (w < txq) {
        EXPECT_EQ(r.sender, w) << "a worker with a queue of its own sends directly";
      }
    }
    for (const auto& [q, s] : senders) EXPECT_EQ(s.size(), 1u) << "queue " << q << " with " << txq << " queues";
  }
}

ParsedArgs parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "tapswitch");
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

TEST(DataplaneOptions, Defaults) {
  DataplaneConfig c = parse({}).config.dp;
  EXPECT_EQ(c.workers, 1u);
  EXPECT_TRUE(c.cpus.empty());
  EXPECT_EQ(c.poll, PollMode::adaptive);
  EXPECT_EQ(c.wake, WakeCpu::others);
  EXPECT_EQ(parse({"--wake-cpu", "home"}).config.dp.wake, WakeCpu::home);
  EXPECT_EQ(parse({"--wake-cpu", "any"}).config.dp.wake, WakeCpu::any);
}

TEST(DataplaneOptions, LcoresImplyTheWorkerCount) {
  DataplaneConfig c = parse({"--lcores", "0-1", "--poll", "busy"}).config.dp;
  EXPECT_EQ(c.workers, 2u);
  EXPECT_EQ(c.cpus, (std::vector<unsigned>{0, 1}));
  EXPECT_EQ(c.poll, PollMode::busy);
  EXPECT_EQ(parse({"--rxq-affinity", "vm1:0=1", "--workers", "2"}).config.dp.rxq_affinity.at(0).port, "vm1");
}

TEST(DataplaneOptions, EachErrorNamesItsOption) {
  auto msg = [](std::vector<const char*> argv) {
    try {
      parse(argv);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg({"--workers", "0"}).find("--workers"), std::string::npos);
  EXPECT_NE(msg({"--workers", "2", "--lcores", "1"}).find("--lcores"), std::string::npos);
  EXPECT_NE(msg({"--lcores", "1-x"}).find("--lcores"), std::string::npos);
  EXPECT_NE(msg({"--lcores", "1,1"}).find("twice"), std::string::npos);
  EXPECT_NE(msg({"--poll", "lazy"}).find("--poll"), std::string::npos);
  EXPECT_NE(msg({"--wake-cpu", "sender"}).find("--wake-cpu"), std::string::npos);
  EXPECT_NE(msg({"--rxq-affinity", "vm1=1"}).find("PORT:QUEUE=WORKER"), std::string::npos);
  EXPECT_NE(msg({"--rxq-affinity", "vm1:0=3", "--workers", "2"}).find("worker 3"), std::string::npos);
  EXPECT_NE(msg({"--port", "dpdk:net_tap0,queues=0"}).find("queues"), std::string::npos);
  EXPECT_NE(msg({"--port", "dpdk:net_tap0,queues=99"}).find("queues"), std::string::npos);
}

TEST(PortSpecQueues, QueuesAreTakenOutOfTheDevargs) {
  PortSpec s = parse_port_spec("dpdk:net_tap0,iface=x,queues=2");
  EXPECT_EQ(s.queues, 2u);
  EXPECT_EQ(s.devargs, "net_tap0,iface=x");
  PortSpec v = parse_port_spec("dpdk:net_vhost0,iface=/tmp/s,queues=2");
  EXPECT_EQ(v.queues, 2u);
  EXPECT_EQ(v.devargs, "net_vhost0,iface=/tmp/s,queues=2");
}

// Worker 1 has no tx queue of its own on port 0: its frames go through a ring that worker 0
// drains, in order, and nothing is copied or leaked.
TEST(TxRing, FramesCrossToTheOwnerInOrder) {
  const unsigned baseline = pool().in_use();
  {
    Fdb fdb{FdbConfig{.capacity = 1024, .workers = 2}};
    WorkerCounters c0, c1;
    Forwarder f0(0, fdb, c0, test::pool().get()), f1(1, fdb, c1, test::pool().get());
    FakePort p0("p0"), p1("p1");
    Ring ring("txtest", 64, RING_F_SP_ENQ | RING_F_SC_DEQ);
    WakeUp owner;
    f0.set_ports({{0, &p0, 0, nullptr, nullptr}, {1, &p1, 0, nullptr, nullptr}});
    f1.set_ports({{0, &p0, 0, ring.get(), &owner}, {1, &p1, 0, nullptr, nullptr}});
    std::vector<rte_mbuf*> frames;
    for (int i = 0; i < 20; ++i) frames.push_back(make_frame(kBroadcast, mac("02:00:00:00:00:01"), 60 + i));
    f1.process(1, frames.data(), static_cast<uint16_t>(frames.size()));
    f1.flush();
    EXPECT_TRUE(p0.tx.empty()) << "worker 1 must not touch port 0's queue";
    EXPECT_EQ(rte_ring_count(ring.get()), 20u);
    TxDrain d{0, &p0, 0, ring.get()};
    while (f0.drain(d)) {}
    ASSERT_EQ(p0.tx.size(), 20u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(p0.tx[i]->pkt_len, 60u + i) << "order kept";
    EXPECT_EQ(c0.ports[0].tx_packets.get(), 20u);
    EXPECT_EQ(c1.copies.get() + c0.copies.get(), 0u);
  }
  EXPECT_EQ(pool().in_use(), baseline);
}

TEST(TxRing, AFullRingDropsAndCountsTxFull) {
  const unsigned baseline = pool().in_use();
  {
    Fdb fdb{FdbConfig{.capacity = 1024, .workers = 2}};
    WorkerCounters c1;
    Forwarder f1(1, fdb, c1, test::pool().get());
    FakePort p0("p0"), p1("p1");
    Ring ring("txfull", 8, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    WakeUp owner;
    f1.set_ports({{0, &p0, 0, ring.get(), &owner}, {1, &p1, 0, nullptr, nullptr}});
    std::vector<rte_mbuf*> frames;
    for (int i = 0; i < 20; ++i) frames.push_back(make_frame(kBroadcast, mac("02:00:00:00:00:01")));
    f1.process(1, frames.data(), static_cast<uint16_t>(frames.size()));
    f1.flush();
    EXPECT_EQ(rte_ring_count(ring.get()), 8u);
    EXPECT_EQ(c1.ports[0].drops[static_cast<unsigned>(DropReason::tx_full)].get(), 12u);
    void* objs[8];
    unsigned n = rte_ring_dequeue_burst(ring.get(), objs, 8, nullptr);
    rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
  }
  EXPECT_EQ(pool().in_use(), baseline);
}

}  // namespace
}  // namespace tapswitch::test
