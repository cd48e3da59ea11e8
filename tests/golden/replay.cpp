#include "tests/golden/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "fdb/fdb.h"
#include "switch/forwarder.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fake_port.h"

namespace tapswitch::test {

namespace {

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  char b[3];
  for (uint8_t v : bytes) {
    std::snprintf(b, sizeof b, "%02x", v);
    s += b;
  }
  return s;
}

std::string mac_text(const Mac& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

// Every counter of a port on one line, so that a mismatch shows which one moved.
std::string counters_text(const SwitchPortTotals& t) {
  std::ostringstream s;
  s << "rx " << t.rx_packets << "/" << t.rx_bytes << "B tx " << t.tx_packets << "/" << t.tx_bytes
    << "B flooded " << t.flooded << " drops";
  for (unsigned i = 0; i < kDropReasons; ++i)
    s << " " << to_string(static_cast<DropReason>(i)) << "=" << t.drops[i];
  return s.str();
}

// One scenario's switch: a fresh FDB, counters and forwarder, and one fake port per name.
class Rig {
 public:
  explicit Rig(const std::vector<std::string>& names)
      : names_(names), counters_(std::make_unique<WorkerCounters>()), fwd_(0, fdb_, *counters_, pool().get()) {
    std::vector<TxTarget> tx;
    for (size_t i = 0; i < names.size(); ++i) {
      ports_.push_back(std::make_unique<FakePort>(names[i]));
      tx.push_back({static_cast<uint16_t>(i), ports_.back().get(), 0});
    }
    fwd_.set_ports(tx);
  }

  ~Rig() { EXPECT_EQ(fdb_.stats().learn_dropped, 0u) << "learn requests lost"; }

  void operator()(const FrameStep& f) {
    const auto before = snapshot();
    // Receive, switch and send, then let the writer apply what was learned, as the control
    // thread would before the next frame.
    rte_mbuf* m = make_raw(f.bytes);
    fwd_.process(f.in, &m, 1);
    fwd_.flush();
    fdb_.process_learning();

    const std::string sent = hex(f.bytes);
    for (size_t p = 0; p < ports_.size(); ++p) {
      const auto& tx = ports_[p]->tx;
      const bool want = std::binary_search(f.out.begin(), f.out.end(), static_cast<uint16_t>(p));
      EXPECT_EQ(tx.size(), want ? 1u : 0u)
          << "frames out of " << names_[p] << (p == f.in ? " (the ingress port)" : "");
      for (rte_mbuf* o : tx) EXPECT_EQ(hex(bytes_of(o)), sent) << "frame changed on its way out of " << names_[p];
    }

    auto want = before;
    SwitchPortTotals& ic = want[f.in];
    ic.rx_packets += 1;
    ic.rx_bytes += f.bytes.size();
    if (f.flood) ic.flooded += 1;
    if (f.drop) ic.drops[static_cast<unsigned>(*f.drop)] += 1;
    for (uint16_t p : f.out) {
      want[p].tx_packets += 1;
      want[p].tx_bytes += f.bytes.size();
    }
    const auto got = snapshot();
    for (size_t p = 0; p < ports_.size(); ++p)
      EXPECT_EQ(counters_text(got[p]), counters_text(want[p])) << "counters of " << names_[p];

    for (auto& p : ports_) p->clear_tx();
    EXPECT_EQ(pool().in_use(), baseline_) << "mbufs still held after the frame";
  }

  void operator()(const FdbCheck& c) {
    const FdbKey key = FdbKey::make(c.vlan, c.mac.data());
    FdbEntry e;
    fdb_.lookup_bulk(&key, 1, &e);
    EXPECT_EQ(port_name(e.port), port_name(c.port))
        << "FDB entry of " << mac_text(c.mac) << " vlan " << c.vlan;
  }

  void operator()(const FdbCountCheck& c) {
    EXPECT_EQ(fdb_.stats().entries, c.entries) << "FDB entries";
  }

 private:
  std::vector<SwitchPortTotals> snapshot() const {
    std::vector<SwitchPortTotals> s(ports_.size());
    for (size_t p = 0; p < ports_.size(); ++p) s[p].add(counters_->ports[p]);
    return s;
  }

  std::string port_name(uint16_t id) const {
    if (id == kNoPort) return "none";
    return id < names_.size() ? names_[id] : "port id " + std::to_string(id);
  }

  const unsigned baseline_ = pool().in_use();
  std::vector<std::string> names_;
  Fdb fdb_{FdbConfig{}};
  std::unique_ptr<WorkerCounters> counters_;
  Forwarder fwd_;
  std::vector<std::unique_ptr<FakePort>> ports_;
};

}  // namespace

void replay(const Scenario& sc, const std::string& file) {
  const unsigned baseline = pool().in_use();
  {
    Rig rig(sc.ports);
    for (const Step& step : sc.steps) {
      ::testing::ScopedTrace trace(file.c_str(), step.line, "scenario step");
      std::visit(rig, step.what);
    }
  }
  EXPECT_EQ(pool().in_use(), baseline) << "mbufs leaked by " << file;
}

}  // namespace tapswitch::test
