// show ports
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/netns.h"
#include "ports/port_spec.h"
#include "switch/commands.h"
#include "switch/switch.h"
#include "switch/text_table.h"

namespace tapswitch {

namespace {

nlohmann::json port_json(const Switch& sw, const PortRecord& rec) {
  const Port& p = *rec.port;
  const SwitchPortTotals t = sw.totals(rec.id);
  const PortStats ps = rec.stats();
  const LinkState link = p.link();

  nlohmann::json drops = nlohmann::json::object();
  uint64_t dropped = 0;
  for (const auto& [name, n] : port_drops(t, ps)) {
    drops[name] = n;
    dropped += n;
  }

  nlohmann::json j = {
      {"id", rec.id},
      {"name", p.name()},
      {"kind", to_string(p.kind())},
      {"spec", rec.spec.text},
      {"state", rec.detached || link.gone ? "gone" : link.up ? "up" : "down"},
      {"rx_queues", p.rx_queues()},
      {"tx_queues", p.tx_queues()},
      // What crossed the port, by the port's own count.
      {"rx_packets", ps.rx_packets},
      {"rx_bytes", ps.rx_bytes},
      {"tx_packets", ps.tx_packets},
      {"tx_bytes", ps.tx_bytes},
      // What the switch took from the port and handed to it.
      {"switch", {{"rx_packets", t.rx_packets}, {"rx_bytes", t.rx_bytes},
                  {"tx_packets", t.tx_packets}, {"tx_bytes", t.tx_bytes}}},
      {"flooded", t.flooded},
      {"dropped", dropped},
      {"drops", drops},
      {"rx_paused", ps.rx_paused},  // not a drop (ports/port.h)
  };
  if (link.speed_mbps) j["speed_mbps"] = link.speed_mbps;
  // Where its kernel interface is: "" in the switch's own network namespace; null when none is
  // known (a port waiting for its interface, one whose interface is gone, a vhost-user port).
  if (const KernelInterface ki = p.kernel_interface(); !link.gone && !ki.name.empty() && ki.netns)
    j["netns"] = netns_label(ki.netns);
  else
    j["netns"] = nullptr;
  nlohmann::json details = nlohmann::json::object();
  p.describe(details);
  j["details"] = details;
  return j;
}

CommandOutput show_ports(const Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  CommandOutput out;
  out.data = nlohmann::json::array();
  TextTable t({"NAME", "KIND", "NETNS", "STATE", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS"});
  for (const PortRecord* rec : sw.ports()) {
    nlohmann::json j = port_json(sw, *rec);
    const std::string netns = j["netns"].is_string() ? j["netns"].get<std::string>() : "";
    t.row({j["name"], j["kind"], netns.empty() ? "-" : netns, j["state"], std::to_string(j["rx_packets"].get<uint64_t>()),
           std::to_string(j["rx_bytes"].get<uint64_t>()), std::to_string(j["tx_packets"].get<uint64_t>()),
           std::to_string(j["tx_bytes"].get<uint64_t>()), std::to_string(j["dropped"].get<uint64_t>())});
    out.data.push_back(std::move(j));
  }
  out.text = t.render();
  return out;
}

CommandOutput port_add(Switch& sw, const std::vector<std::string>& args) {
  if (args.size() != 1) fail("usage: port add SPEC (e.g. port add tap:vm4)");
  const PortRecord& rec = sw.add_port(parse_port_spec(args[0]));
  CommandOutput out;
  out.data = port_json(sw, rec);
  out.text = fmt::format("port {} added as id {}{}\n", rec.port->name(), rec.id,
                         rec.detached ? fmt::format("; waiting for an interface named '{}'", rec.spec.ifname) : "");
  return out;
}

CommandOutput port_del(Switch& sw, const std::vector<std::string>& args) {
  if (args.size() != 1) fail("usage: port del NAME");
  sw.remove_port(args[0]);
  CommandOutput out;
  out.data = {{"removed", args[0]}};
  out.text = fmt::format("port {} removed\n", args[0]);
  return out;
}

}  // namespace

void add_port_commands(std::vector<Command>& out, Switch& sw) {
  out.push_back({{"show", "ports"}, "", "ports with kind, state and counters (drops by reason with -j)",
                 [&sw](const std::vector<std::string>& a) { return show_ports(sw, a); }});
  out.push_back({{"port", "add"}, "SPEC", "add a port while running (same SPEC as --port)",
                 [&sw](const std::vector<std::string>& a) { return port_add(sw, a); }});
  out.push_back({{"port", "del"}, "NAME", "remove a port while running; the others keep forwarding",
                 [&sw](const std::vector<std::string>& a) { return port_del(sw, a); }});
}

}  // namespace tapswitch
