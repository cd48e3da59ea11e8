// show fdb, show fdb stats
#include <algorithm>

#include <nlohmann/json.hpp>

#include "switch/commands.h"
#include "switch/switch.h"
#include "switch/text_table.h"

namespace tapswitch {

namespace {

CommandOutput show_fdb(Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  struct Row {
    FdbKey key;
    FdbEntry entry;
  };
  std::vector<Row> rows;
  sw.fdb().for_each([&](const FdbRecord& r) { rows.push_back({r.key, r.entry}); });
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.entry.port != b.entry.port) return a.entry.port < b.entry.port;
    return a.key.raw < b.key.raw;
  });
  const uint32_t now = Fdb::now();
  CommandOutput out;
  out.data = nlohmann::json::array();
  TextTable t({"MAC", "VLAN", "PORT", "TYPE", "AGE"});
  for (const auto& r : rows) {
    uint8_t mac[6];
    r.key.mac(mac);
    const PortRecord* p = sw.port(r.entry.port);
    std::string port = p ? p->port->name() : "?";
    std::string type = r.entry.flags & kFdbStatic ? "static" : "dynamic";
    uint32_t age = now >= r.entry.last_seen ? now - r.entry.last_seen : 0;
    std::string m = format_mac(mac);
    out.data.push_back({{"mac", m}, {"vlan", r.key.vlan()}, {"port", port}, {"type", type}, {"age", age}});
    t.row({m, std::to_string(r.key.vlan()), port, type, std::to_string(age)});
  }
  out.text = t.render();
  return out;
}

CommandOutput show_fdb_stats(Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  const FdbStats s = sw.fdb().stats();
  CommandOutput out;
  out.data = {{"capacity", sw.fdb().capacity()}, {"entries", s.entries}, {"learned", s.learned},
              {"moved", s.moved},       {"refused", s.refused},          {"learn_dropped", s.learn_dropped},
              {"hits", s.hits},         {"misses", s.misses}};
  TextTable t({"COUNTER", "VALUE"});
  for (const auto& [k, v] : out.data.items()) t.row({k, std::to_string(v.get<uint64_t>())});
  out.text = t.render();
  return out;
}

}  // namespace

void add_fdb_commands(std::vector<Command>& out, Switch& sw) {
  out.push_back({{"show", "fdb"}, "", "learned MAC addresses: mac, vlan, port, type, age (seconds)",
                 [&sw](const std::vector<std::string>& a) { return show_fdb(sw, a); }});
  out.push_back({{"show", "fdb", "stats"}, "", "FDB counters",
                 [&sw](const std::vector<std::string>& a) { return show_fdb_stats(sw, a); }});
}

}  // namespace tapswitch
