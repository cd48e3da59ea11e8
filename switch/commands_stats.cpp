// show workers, show stats
#include <rte_cycles.h>
#include <rte_lcore.h>

#include <nlohmann/json.hpp>

#include "base/cpus.h"
#include "switch/commands.h"
#include "switch/switch.h"
#include "switch/text_table.h"

namespace tapswitch {

namespace {

std::string pct(double v) { return fmt::format("{:.1f}%", v); }

// The CPUs an lcore is placed on (its home: with --wake-cpu others|any a sleeping worker may be woken
// elsewhere for a moment).
std::vector<unsigned> lcore_cpus(unsigned lcore) { return cpus_of(rte_lcore_cpuset(lcore)); }

nlohmann::json worker_json(const Switch& sw, const Worker& w) {
  const WorkerCounters& c = w.counters();
  const WorkerPlan& plan = w.plan();
  const uint64_t busy = c.busy_cycles.get(), idle = c.idle_cycles.get();
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const double sleep_s = static_cast<double>(c.sleep_ns.get()) / 1e9;
  const double total_s = static_cast<double>(busy + idle) / hz + sleep_s;
  const uint64_t bursts = c.rx_bursts.get(), frames = c.rx_frames.get();

  nlohmann::json rxq = nlohmann::json::array();
  for (const RxAssignment& rx : plan.rx) {
    const PortRecord* p = sw.port(rx.id);
    rxq.push_back({{"port", p ? p->port->name() : "?"}, {"queue", rx.queue}});
  }
  nlohmann::json tx = nlohmann::json::array();
  for (const TxTarget& t : plan.tx) {
    const PortRecord* p = sw.port(t.id);
    tx.push_back({{"port", p ? p->port->name() : "?"}, {"queue", t.queue}, {"via_ring", t.ring != nullptr}});
  }
  nlohmann::json drains = nlohmann::json::array();
  for (const TxDrain& d : plan.drains) {
    const PortRecord* p = sw.port(d.id);
    drains.push_back({{"port", p ? p->port->name() : "?"}, {"queue", d.queue}});
  }
  return {
      {"index", w.index()},
      {"lcore", w.lcore()},
      {"cpus", lcore_cpus(w.lcore())},
      {"poll", to_string(sw.poll_mode())},
      {"wake_cpu", to_string(sw.wake_cpu())},
      {"rx_queues", rxq},
      {"tx", tx},
      {"tx_rings_drained", drains},
      {"iterations", c.iterations.get()},
      {"rx_bursts", bursts},
      {"rx_frames", frames},
      {"avg_rx_burst", bursts ? static_cast<double>(frames) / static_cast<double>(bursts) : 0.0},
      {"busy_cycles", busy},
      {"idle_cycles", idle},
      {"busy_pct", total_s > 0 ? 100.0 * static_cast<double>(busy) / hz / total_s : 0.0},
      {"sleeps", c.sleeps.get()},
      {"sleep_seconds", sleep_s},
      {"sleep_pct", total_s > 0 ? 100.0 * sleep_s / total_s : 0.0},
      {"wakes_away", c.wakes_away.get()},
      {"frames_drained_for_others", c.drained.get()},
      {"frame_copies", c.copies.get()},
  };
}

CommandOutput show_workers(const Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  CommandOutput out;
  out.data = nlohmann::json::array();
  TextTable t({"WORKER", "LCORE", "CPUS", "RX_QUEUES", "DRAINS", "BUSY", "SLEEP", "AVG_BURST", "RX_FRAMES", "SLEEPS"});
  for (const auto& w : sw.workers()) {
    nlohmann::json j = worker_json(sw, *w);
    std::string queues, drains;
    for (const auto& q : j["rx_queues"])
      queues += (queues.empty() ? "" : " ") + q["port"].get<std::string>() + ":" + std::to_string(q["queue"].get<int>());
    for (const auto& q : j["tx_rings_drained"])
      drains += (drains.empty() ? "" : " ") + q["port"].get<std::string>() + ":" + std::to_string(q["queue"].get<int>());
    std::string cpus;
    for (unsigned c : j["cpus"].get<std::vector<unsigned>>()) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
    t.row({std::to_string(w->index()), std::to_string(w->lcore()), cpus.empty() ? "-" : cpus, queues.empty() ? "-" : queues,
           drains.empty() ? "-" : drains, pct(j["busy_pct"].get<double>()), pct(j["sleep_pct"].get<double>()),
           fmt::format("{:.1f}", j["avg_rx_burst"].get<double>()), std::to_string(j["rx_frames"].get<uint64_t>()),
           std::to_string(j["sleeps"].get<uint64_t>())});
    out.data.push_back(std::move(j));
  }
  out.text = t.render();
  return out;
}

CommandOutput show_stats(const Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  CommandOutput out;
  nlohmann::json ports = nlohmann::json::array();
  TextTable t({"PORT", "RX", "TX", "FLOODED", "DROPPED", "REASONS"});
  std::string paused;  // ports that stopped reading for want of buffers (not drops)
  for (const PortRecord* rec : sw.ports()) {
    const SwitchPortTotals tot = sw.totals(rec->id);
    const PortStats ps = rec->stats();
    const auto reasons = port_drops(tot, ps);
    nlohmann::json drops = nlohmann::json::object();
    uint64_t dropped = 0;
    std::string nonzero;
    for (const auto& [name, n] : reasons) {
      drops[name] = n;
      dropped += n;
      if (n) nonzero += fmt::format("{}{}={}", nonzero.empty() ? "" : " ", name, n);
    }
    ports.push_back({{"name", rec->port->name()},
                     {"rx_packets", tot.rx_packets},
                     {"rx_bytes", tot.rx_bytes},
                     {"tx_packets", tot.tx_packets},
                     {"tx_bytes", tot.tx_bytes},
                     {"flooded", tot.flooded},
                     {"dropped", dropped},
                     {"drops", drops},
                     {"rx_paused", ps.rx_paused}});
    if (ps.rx_paused) paused += fmt::format(" {}={}", rec->port->name(), ps.rx_paused);
    t.row({rec->port->name(), std::to_string(tot.rx_packets), std::to_string(tot.tx_packets),
           std::to_string(tot.flooded), std::to_string(dropped), nonzero.empty() ? "-" : nonzero});
  }
  uint64_t copies = 0, frames = 0;
  for (const auto& w : sw.workers()) {
    copies += w->counters().copies.get();
    frames += w->counters().rx_frames.get();
  }
  const PktPool& pool = sw.pool();
  out.data = {{"ports", ports},
              {"pool", {{"size", pool.size()}, {"in_use", pool.in_use()}}},
              {"workers", sw.workers().size()},
              {"rx_frames", frames},
              {"frame_copies", copies}};
  out.text = t.render() + fmt::format("\nmbuf pool: {} of {} in use; frames switched: {}; frame copies: {}\n",
                                      pool.in_use(), pool.size(), frames, copies);
  if (!paused.empty())
    out.text += "times reading stopped for want of buffers (the frames waited in the kernel, none dropped):" +
                paused + "\n";
  return out;
}

}  // namespace

void add_stats_commands(std::vector<Command>& out, Switch& sw) {
  out.push_back({{"show", "workers"}, "", "workers: rx queues, tx rings drained, busy/sleep time, average burst",
                 [&sw](const std::vector<std::string>& a) { return show_workers(sw, a); }});
  out.push_back({{"show", "stats"}, "", "switch counters per port (drops by reason), mbuf pool, frame copies",
                 [&sw](const std::vector<std::string>& a) { return show_stats(sw, a); }});
}

}  // namespace tapswitch
