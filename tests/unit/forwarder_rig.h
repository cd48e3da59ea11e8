// A Forwarder over fake ports with the real FDB, as a GoogleTest fixture base: the forwarding,
// FDB and egress tests build on it. The mbuf pool must be back where it was after each test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fdb/fdb.h"
#include "switch/forwarder.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fake_port.h"

namespace tapswitch::test {

class ForwarderRig : public ::testing::Test {
 protected:
  void SetUp() override { baseline_ = pool().in_use(); }
  void TearDown() override {
    ports_.clear();
    fwd_.reset();
    EXPECT_EQ(pool().in_use(), baseline_) << "mbufs leaked";
  }

  // n fake ports p0..p(n-1), each reached through its own tx queue 0.
  void make_ports(unsigned n) {
    counters_ = std::make_unique<WorkerCounters>();
    fwd_ = std::make_unique<Forwarder>(0, fdb_, *counters_, pool().get());
    for (unsigned i = 0; i < n; ++i) ports_.push_back(std::make_unique<FakePort>("p" + std::to_string(i)));
  }
  // Hands the ports to the forwarder (after any per-port setup, such as capabilities).
  void attach_ports() {
    std::vector<TxTarget> tx;
    for (unsigned i = 0; i < ports_.size(); ++i) tx.push_back({static_cast<uint16_t>(i), ports_[i].get(), 0, nullptr, nullptr});
    fwd_->set_ports(tx);
  }

  // Switches frames received on port `in` and sends them out.
  void switch_frames(uint16_t in, std::vector<rte_mbuf*> frames) {
    fwd_->process(in, frames.data(), static_cast<uint16_t>(frames.size()));
    fwd_->flush();
  }
  size_t tx_count(unsigned port) const { return ports_[port]->tx.size(); }
  void clear_tx() {
    for (auto& p : ports_) p->clear_tx();
  }
  const SwitchPortCounters& out(unsigned port) const { return counters_->ports[port]; }
  uint64_t drops(unsigned port, DropReason r) const { return out(port).drops[static_cast<unsigned>(r)].get(); }

  Fdb fdb_{FdbConfig{}};
  std::unique_ptr<WorkerCounters> counters_;
  std::unique_ptr<Forwarder> fwd_;
  std::vector<std::unique_ptr<FakePort>> ports_;
  unsigned baseline_ = 0;
};

}  // namespace tapswitch::test
