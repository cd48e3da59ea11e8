#include "switch/telemetry.h"

#include <rte_telemetry.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "switch/commands.h"

namespace tapswitch {

namespace {

std::mutex g_attach;  // guards the two pointers below; held for a whole callback
const Commands* g_commands = nullptr;
std::mutex* g_control_lock = nullptr;
std::once_flag g_registered;

std::string clip(const std::string& s) { return s.substr(0, RTE_TEL_MAX_STRING_LEN - 1); }

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.3f}", v.get<double>());
  return v.dump();
}

bool is_container(const nlohmann::json& v) { return v.is_object() || v.is_array(); }

rte_tel_data* container_of(const nlohmann::json& v) {
  rte_tel_data* c = rte_tel_data_alloc();
  if (c) json_to_telemetry(v, c);
  return c;
}

void add_to_dict(rte_tel_data* d, const std::string& key_in, const nlohmann::json& v) {
  const std::string key = clip(key_in);
  if (is_container(v)) {
    if (rte_tel_data* c = container_of(v))
      if (rte_tel_data_add_dict_container(d, key.c_str(), c, 0) != 0) rte_tel_data_free(c);
  } else if (v.is_number_unsigned()) {
    rte_tel_data_add_dict_u64(d, key.c_str(), v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    rte_tel_data_add_dict_int(d, key.c_str(), static_cast<int>(v.get<int64_t>()));
  } else if (v.is_boolean()) {
    rte_tel_data_add_dict_int(d, key.c_str(), v.get<bool>() ? 1 : 0);
  } else if (!v.is_null()) {
    rte_tel_data_add_dict_string(d, key.c_str(), clip(scalar_text(v)).c_str());
  }
}

// DPDK 22.11 arrays hold only u64, int or string values; a list of objects becomes a dict keyed
// by each object's "name" (when every one has a distinct name) or by its position.
nlohmann::json keyed(const nlohmann::json& a) {
  nlohmann::json by_name = nlohmann::json::object(), by_index = nlohmann::json::object();
  bool named = true;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& v = a[i];
    by_index[std::to_string(i)] = v;
    const bool has_name = v.is_object() && v.contains("name") && v["name"].is_string();
    if (named && has_name && !by_name.contains(v["name"].get<std::string>())) by_name[v["name"].get<std::string>()] = v;
    else named = false;
  }
  return named ? by_name : by_index;
}

void fill_array(rte_tel_data* d, const nlohmann::json& a) {
  bool any_container = false, all_unsigned = !a.empty();
  for (const auto& v : a) {
    any_container |= is_container(v);
    all_unsigned &= v.is_number_unsigned();
  }
  if (any_container) {
    json_to_telemetry(keyed(a), d);
  } else if (all_unsigned) {
    rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
    for (const auto& v : a) rte_tel_data_add_array_u64(d, v.get<uint64_t>());
  } else {
    rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
    for (const auto& v : a) rte_tel_data_add_array_string(d, clip(scalar_text(v)).c_str());
  }
}

// Runs `show ...` as tapswitchctl -j would, under the control lock. False if detached or failed.
bool run_command(const std::vector<std::string>& argv, nlohmann::json& out) {
  std::lock_guard attached(g_attach);
  if (!g_commands) return false;
  CtlRequest req;
  req.argv = argv;
  req.json = true;
  CtlReply reply;
  try {
    std::lock_guard control(*g_control_lock);
    reply = g_commands->dispatch(req);
  } catch (const std::exception& e) {
    spdlog::debug("telemetry: {} failed: {}", argv.back(), e.what());
    return false;
  }
  if (!reply.ok) return false;
  out = std::move(reply.data);
  return true;
}

// Each callback catches everything: DPDK is C and calls these from its own threads.
template <typename Fn>
int guarded(Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    spdlog::debug("telemetry callback failed: {}", e.what());
    return -EINVAL;
  }
}

// DPDK sends at most 16 KB per reply and cuts what does not fit without a word. A reply whose
// JSON comes near that is refused instead (the client gets null), never sent in part; per-port
// figures are asked one port at a time, as DPDK's own /ethdev commands do.
constexpr size_t kMaxReplyJson = 15 * 1024;

int reply_with(const nlohmann::json& j, rte_tel_data* d) {
  if (const size_t bytes = j.dump().size(); bytes > kMaxReplyJson) {
    spdlog::debug("telemetry: a reply of {} bytes would not fit in DPDK's 16 KB", bytes);
    return -ENOSPC;
  }
  json_to_telemetry(j, d);
  return 0;
}

// The entry of `list` (an array of objects with "name") named `name`; null if none.
nlohmann::json named(const nlohmann::json& list, const std::string& name) {
  for (const auto& p : list)
    if (p.value("name", "") == name) return p;
  return nullptr;
}

nlohmann::json names_of(const nlohmann::json& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : list) out.push_back(p.value("name", ""));
  return out;
}

// /tapswitch/ports: the port names; /tapswitch/ports,NAME: that port as `show ports -j` has it.
int tel_ports(const char*, const char* params, rte_tel_data* d) {
  return guarded([&] {
    nlohmann::json ports;
    if (!run_command({"show", "ports"}, ports) || !ports.is_array()) return -ENODEV;
    const std::string want = params ? params : "";
    if (want.empty()) return reply_with(names_of(ports), d);
    nlohmann::json p = named(ports, want);
    return p.is_null() ? -ENOENT : reply_with(p, d);
  });
}

// /tapswitch/stats: `show stats -j` with the port names in "ports"; /tapswitch/stats,NAME: that
// port's entry.
int tel_stats(const char*, const char* params, rte_tel_data* d) {
  return guarded([&] {
    nlohmann::json data;
    if (!run_command({"show", "stats"}, data) || !data.contains("ports")) return -ENODEV;
    const std::string want = params ? params : "";
    if (!want.empty()) {
      nlohmann::json p = named(data["ports"], want);
      return p.is_null() ? -ENOENT : reply_with(p, d);
    }
    data["ports"] = names_of(data["ports"]);
    return reply_with(data, d);
  });
}

int tel_simple(const std::vector<std::string>& argv, rte_tel_data* d) {
  return guarded([&] {
    nlohmann::json data;
    if (!run_command(argv, data)) return -ENODEV;
    return reply_with(data, d);
  });
}

int tel_fdb_stats(const char*, const char*, rte_tel_data* d) { return tel_simple({"show", "fdb", "stats"}, d); }
int tel_workers(const char*, const char*, rte_tel_data* d) { return tel_simple({"show", "workers"}, d); }

void register_commands() {
  struct Entry {
    const char* cmd;
    telemetry_cb fn;
    const char* help;
  };
  const Entry entries[] = {
      {"/tapswitch/ports", tel_ports, "tapswitch port names; with a port name, its counters and details"},
      {"/tapswitch/fdb_stats", tel_fdb_stats, "tapswitch FDB counters. Takes no parameters"},
      {"/tapswitch/workers", tel_workers, "tapswitch worker counters. Takes no parameters"},
      {"/tapswitch/stats", tel_stats,
       "tapswitch mbuf pool, frames, copies and port names; with a port name, its switch counters and drops"},
  };
  for (const Entry& e : entries) {
    int rc = rte_telemetry_register_cmd(e.cmd, e.fn, e.help);
    if (rc != 0) spdlog::warn("telemetry: cannot register {}: {}", e.cmd, std::strerror(-rc));
  }
}

}  // namespace

void json_to_telemetry(const nlohmann::json& j, rte_tel_data* d) {
  if (j.is_array()) {
    fill_array(d, j);
    return;
  }
  rte_tel_data_start_dict(d);
  if (!j.is_object()) {
    add_to_dict(d, "value", j);
    return;
  }
  for (const auto& [k, v] : j.items()) add_to_dict(d, k, v);
}

Telemetry::Telemetry(const Commands& commands, std::mutex& control_lock) {
  std::call_once(g_registered, register_commands);
  std::lock_guard attached(g_attach);
  g_commands = &commands;
  g_control_lock = &control_lock;
}

Telemetry::~Telemetry() {
  std::lock_guard attached(g_attach);
  g_commands = nullptr;
  g_control_lock = nullptr;
}

}  // namespace tapswitch
