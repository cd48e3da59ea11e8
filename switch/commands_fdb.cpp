// show fdb, show fdb stats, fdb add, fdb del, fdb flush
#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "fdb/fdb_static.h"
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
    std::string m = format_mac(mac);
    nlohmann::json row = {{"mac", m}, {"vlan", r.key.vlan()}, {"port", port}, {"type", type}, {"age", nullptr}};
    std::string age_text = "-";  // a static entry has no age: it never ages
    if (!(r.entry.flags & kFdbStatic)) {
      const uint32_t age = static_cast<int32_t>(now - r.entry.last_seen) > 0 ? now - r.entry.last_seen : 0;
      row["age"] = age;
      age_text = std::to_string(age);
    }
    out.data.push_back(std::move(row));
    t.row({m, std::to_string(r.key.vlan()), port, type, age_text});
  }
  out.text = t.render();
  return out;
}

CommandOutput show_fdb_stats(Switch& sw, const std::vector<std::string>& args) {
  expect_no_args(args);
  const Fdb& fdb = sw.fdb();
  const FdbStats s = fdb.stats();
  const std::pair<const char*, uint64_t> rows[] = {
      {"capacity", fdb.capacity()},
      {"aging", fdb.config().aging},
      {"port_limit", fdb.config().port_limit},
      {"entries", s.entries},
      {"static", s.static_entries},
      {"learned", s.learned},
      {"moved", s.moved},
      {"aged", s.aged},
      {"evicted", s.evicted},
      {"refused", s.refused},
      {"refused_port_limit", s.refused_port_limit},
      {"moved_over_limit", s.moved_over_limit},
      {"flushed", s.flushed},
      {"static_conflicts", s.static_conflicts},
      {"learn_dropped", s.learn_dropped},
      {"hits", s.hits},
      {"misses", s.misses},
      {"relocations", s.relocations},
  };
  CommandOutput out;
  out.data = nlohmann::json::object();
  TextTable t({"COUNTER", "VALUE"});
  for (const auto& [k, v] : rows) {
    out.data[k] = v;
    t.row({k, std::to_string(v)});
  }
  out.text = t.render();
  return out;
}

// A VLAN of an entry: 0 to 4094 for one made by hand; 4095 too (`any_learned`) for finding
// entries learned from frames tagged with it (reserved by 802.1Q, but forwarded as they come).
uint16_t parse_vlan(const std::string& s, bool any_learned) {
  const unsigned top = any_learned ? 4095 : 4094;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > top)
    fail("VLAN '{}' is not a number from 0 to {}{}", s, top, v == 4095 ? " (4095 is reserved)" : "");
  return static_cast<uint16_t>(v);
}

uint16_t port_id(Switch& sw, const std::string& name) {
  for (const auto& rec : sw.ports())
    if (rec->port->name() == name) return rec->id;
  fail("no port named '{}'", name);
}

FdbKey parse_key(const std::string& mac_text, const std::vector<std::string>& rest, bool any_learned) {
  uint8_t mac[6];
  if (!parse_mac(mac_text, mac)) fail("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", mac_text);
  uint16_t vlan = 0;
  if (!rest.empty()) {
    if (rest[0] != "vlan") fail("expected 'vlan N', not '{}'", rest[0]);
    if (rest.size() != 2) fail("expected 'vlan N': {}", rest.size() < 2 ? "N is missing" : "too many words");
    vlan = parse_vlan(rest[1], any_learned);
  }
  return FdbKey::make(vlan, mac);
}

CommandOutput done(nlohmann::json data, std::string text) {
  CommandOutput out;
  out.data = std::move(data);
  out.text = std::move(text) + "\n";
  return out;
}

// fdb add MAC PORT [vlan N]: the MAC as --fdb-static takes it (fdb/fdb_static.h), a unicast one.
CommandOutput fdb_add(Switch& sw, const std::vector<std::string>& args) {
  if (args.size() != 2 && !(args.size() == 4 && args[2] == "vlan")) fail("usage: fdb add MAC PORT [vlan N]");
  const FdbKey key = parse_key(args[0], {args.begin() + 2, args.end()}, false);
  uint8_t mac[6];
  key.mac(mac);
  if (const std::string why = static_mac_problem(mac, args[0]); !why.empty()) fail("{}", why);
  const FdbAdd r = sw.fdb().add_static(key, port_id(sw, args[1]));
  if (r == FdbAdd::full) fail("the FDB is full of static entries");
  if (r == FdbAdd::made_static) return done({{"result", "made_static"}}, "learned entry made static");
  const char* what = r == FdbAdd::added ? "added" : "replaced";
  return done({{"result", what}}, fmt::format("static entry {}", what));
}

// fdb del MAC [vlan N]
CommandOutput fdb_del(Switch& sw, const std::vector<std::string>& args) {
  if (args.empty()) fail("usage: fdb del MAC [vlan N]");
  const FdbKey key = parse_key(args[0], {args.begin() + 1, args.end()}, true);
  if (!sw.fdb().remove(key)) {
    // Say where the MAC is, if it is under other VLANs: `fdb del` looks in one.
    std::vector<uint16_t> vlans;
    sw.fdb().for_each([&](const FdbRecord& r) {
      if ((r.key.raw & FdbKey::kMacMask) == (key.raw & FdbKey::kMacMask)) vlans.push_back(r.key.vlan());
    });
    std::sort(vlans.begin(), vlans.end());
    std::string where;
    for (uint16_t v : vlans) where += (where.empty() ? "" : ", ") + std::to_string(v);
    fail("{} is not in the FDB on VLAN {}{}", args[0], key.vlan(),
         vlans.empty() ? "" : fmt::format(" (it is on VLAN {}: add `vlan N`)", where));
  }
  return done({{"removed", 1}}, "removed");
}

// fdb flush [port NAME | vlan N] [all]
CommandOutput fdb_flush(Switch& sw, const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  FdbScope scope = FdbScope::dynamic;
  if (!a.empty() && a.back() == "all") {
    scope = FdbScope::all;
    a.pop_back();
  }
  unsigned n;
  if (a.empty())
    n = sw.fdb().flush_all(scope);
  else if (a.size() == 2 && a[0] == "port")
    n = sw.fdb().flush_port(port_id(sw, a[1]), scope);
  else if (a.size() == 2 && a[0] == "vlan")
    n = sw.fdb().flush_vlan(parse_vlan(a[1], true), scope);
  else
    fail("usage: fdb flush [port NAME | vlan N] [all]");
  return done({{"removed", n}}, fmt::format("{} {} removed", n, n == 1 ? "entry" : "entries"));
}

}  // namespace

void add_fdb_commands(std::vector<Command>& out, Switch& sw) {
  out.push_back({{"show", "fdb"}, "", "learned MAC addresses: mac, vlan, port, type, age (seconds; none for a static entry)",
                 [&sw](const std::vector<std::string>& a) { return show_fdb(sw, a); }});
  out.push_back({{"show", "fdb", "stats"}, "", "FDB counters",
                 [&sw](const std::vector<std::string>& a) { return show_fdb_stats(sw, a); }});
  out.push_back({{"fdb", "add"}, "MAC PORT [vlan N]", "add a static entry: it never ages or moves",
                 [&sw](const std::vector<std::string>& a) { return fdb_add(sw, a); }});
  out.push_back({{"fdb", "del"}, "MAC [vlan N]", "remove an entry, static or learned",
                 [&sw](const std::vector<std::string>& a) { return fdb_del(sw, a); }});
  out.push_back({{"fdb", "flush"}, "[port NAME | vlan N] [all]",
                 "remove learned entries (with 'all', static ones too)",
                 [&sw](const std::vector<std::string>& a) { return fdb_flush(sw, a); }});
}

}  // namespace tapswitch
