#include "switch/config.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "base/error.h"
#include "fdb/fdb_key.h"
#include "ports/tap_io_choice.h"

namespace po = boost::program_options;

namespace tapswitch {

namespace {

constexpr unsigned kHelpWidth = 100;
constexpr size_t kMaxConfigBytes = 1 << 20;  // a config file of 1024 ports is about 40 KB
const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

po::options_description switch_options() {
  po::options_description d("Switch options (also valid as key = value in a config file)", kHelpWidth, kHelpWidth - 40);
  // clang-format off
  d.add_options()
    ("port", po::value<std::vector<std::string>>()->composing(),
       "a port, repeatable:\n"
       "  tap:NAME[,OPTS]          raw-fd TAP, created if absent (an existing persistent tap is attached and left in place)\n"
       "  tapfd:N[,name=L][,OPTS]  adopt the inherited tun/tap fd N\n"
       "  link:NAME[,queues=N][,ring=off]  an existing interface (a VM's tap that qemu holds, a veth end) "
       "through a packet socket, with offloads; queues=N: N sockets in a fanout group; ring=off: recvmsg() "
       "per frame instead of a receive ring\n"
       "  dpdk:DEVARGS[,queues=N][,mtu=N][,offload=on|off]  any DPDK device, e.g. dpdk:net_tap0,iface=vm2 or "
       "dpdk:net_vhost0,iface=SOCKET,tso=1; offload=on hands it GSO frames and partial checksums (default on for "
       "net_vhost only)\n"
       "OPTS: offload=on|off (virtio-net header with checksum/TSO/USO offloads; default on), mtu=N (set "
       "the interface MTU, 68 to 65521), io=syscall|uring (default --tap-io), queues=N (a multi-queue tap), "
       "recreate=on (tap: only: re-create the tap if it is deleted)")
    ("ctl", po::value<std::string>()->default_value(kDefaultCtlPath),
       "control socket path (mode 0600, owned by the user running tapswitch)")
    ("ctl-group", po::value<std::string>()->value_name("GROUP"),
       "open the control socket to GROUP: mode 0660, group GROUP")
    ("log-level", po::value<std::string>()->default_value("info"),
       "trace, debug, info, warn, error, critical or off")
    ("eal", po::value<std::string>(),
       "DPDK EAL arguments, replacing the defaults (--no-huge --no-pci --no-shconf -m MEMORY); "
       "tapswitch adds --lcores and --file-prefix unless given")
    ("memory", uint_value(0)->value_name("MB"),
       "DPDK memory in MB for the default EAL arguments, 64 to 524288 (DPDK's limit) and at most "
       "the machine's memory (0: sized from the ports and the FDB, at least 512)")
    ("mbufs", uint_value(0),
       "mbufs in the pool, 1024 to 134217728 (0: sized from the ports); their memory, about 2.5 KB "
       "each, must fit in the machine's")
    ("fdb-size", uint_value(65536),
       "FDB capacity in entries, 16 to 16777216, static ones included; when full, a new MAC evicts "
       "one from the port with the most")
    ("fdb-aging", uint_value(300)->value_name("SECONDS"),
       "seconds an idle learned MAC stays in the FDB, 2 to 1000000 (0: never ages)")
    ("fdb-port-limit", uint_value(0), "MACs learned per port at most, 1 to 16777216 (0: no limit)")
    ("fdb-static", po::value<std::vector<std::string>>()->composing(),
       "a static FDB entry MAC,PORT[,VLAN], repeatable: it never ages or moves; PORT is a port name")
    ("tap-io", po::value<std::string>()->default_value("auto"),
       "I/O of raw-fd tap ports without io=: syscall (one read/write per frame), uring (batched "
       "through io_uring; read/write where io_uring is unavailable), or auto: uring where a "
       "system call costs 0.4 us or more (page-table isolation), measured at start");
  // clang-format on
  d.add(dataplane_options(kHelpWidth, kHelpWidth - 40));
  return d;
}

// Turns Boost's exception text into a line that names the option the user wrote.
std::string describe(const po::error& e) { return e.what(); }

// A config line's key and value (blanks around '=' dropped; both "" without one).
std::pair<std::string, std::string> key_value(const std::string& l) {
  const size_t eq = l.find('=');
  if (eq == std::string::npos) return {};
  const size_t ke = l.find_last_not_of(" \t", eq == 0 ? 0 : eq - 1), vs = l.find_first_not_of(" \t", eq + 1);
  return {eq == 0 || ke == std::string::npos ? "" : l.substr(0, ke + 1), vs == std::string::npos ? "" : l.substr(vs)};
}

// ", line N" for the line of the config file at `path` that `matches` (given the line without
// its comment and surrounding blanks, as Boost reads it), the first after `skip` earlier ones
// that match; "" if none does.
template <typename Match>
std::string line_of(const std::string& path, Match matches, unsigned skip = 0) {
  std::ifstream in(path);
  std::string line;
  for (unsigned n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    const size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
    if (a != std::string::npos && matches(line.substr(a, b - a + 1)) && skip-- == 0) return fmt::format(", line {}", n);
  }
  return {};
}

}  // namespace

void fill_tap_io(PortSpec& ps, TapIo global) {
  if (ps.kind != PortKind::dpdk && ps.io == TapIo::automatic) ps.io = global;
}

void fill_tap_io(SwitchConfig& c) {
  for (auto& ps : c.ports) fill_tap_io(ps, c.tap_io);
}

std::optional<double> resolve_tap_io(SwitchConfig& c) {
  if (c.tap_io != TapIo::automatic) return std::nullopt;
  const double ns = measure_syscall_ns();
  c.tap_io = choose_tap_io(ns);
  fill_tap_io(c);
  return ns;
}

namespace {

SwitchConfig to_config(const po::variables_map& vm) {
  SwitchConfig c;
  if (vm.count("port")) {
    for (const auto& s : vm["port"].as<std::vector<std::string>>()) c.ports.push_back(parse_port_spec(s));
  }
  check_unique(c.ports);
  const std::string tap_io = vm["tap-io"].as<std::string>();
  if (tap_io != "uring" && tap_io != "syscall" && tap_io != "auto")
    fail("--tap-io: '{}' is not auto, uring or syscall", tap_io);
  c.tap_io = tap_io == "uring" ? TapIo::uring : tap_io == "syscall" ? TapIo::syscall : TapIo::automatic;
  fill_tap_io(c);
  c.ctl_path = vm["ctl"].as<std::string>();
  if (c.ctl_path.empty()) fail("--ctl: the control socket path is empty");
  if (vm.count("ctl-group")) {
    c.ctl_group = vm["ctl-group"].as<std::string>();
    if (c.ctl_group.empty()) fail("--ctl-group: the group name is empty");
  }
  c.log_level = vm["log-level"].as<std::string>();
  bool ok = false;
  for (const char* l : kLevels) ok |= c.log_level == l;
  if (!ok) fail("--log-level: '{}' is not one of trace, debug, info, warn, error, critical, off", c.log_level);
  if (vm.count("eal")) c.eal = vm["eal"].as<std::string>();
  c.memory_mb = uint_option(vm, "memory", 64, kMaxMemoryMb, "sized from the configuration");
  c.mbufs = uint_option(vm, "mbufs", 1024, kMaxMbufs, "sized from the ports");
  c.fdb_size = uint_option(vm, "fdb-size", 16, kMaxFdbSize);
  c.fdb_aging = uint_option(vm, "fdb-aging", 2, kMaxFdbAging, "never");
  c.fdb_port_limit = uint_option(vm, "fdb-port-limit", 1, kMaxFdbSize, "no limit");
  if (vm.count("fdb-static"))
    for (const auto& s : vm["fdb-static"].as<std::vector<std::string>>()) c.fdb_static.push_back(parse_fdb_static(s));
  for (const auto& s : c.fdb_static)
    if (std::none_of(c.ports.begin(), c.ports.end(), [&](const PortSpec& p) { return p.name == s.port; }))
      fail("--fdb-static '{}': there is no port named '{}'", s.text, s.port);
  // One MAC and VLAN static on two ports (the last would win without a word), and more statics
  // than the FDB holds (refused only at start, once the ports are open).
  std::map<uint64_t, const FdbStaticSpec*> statics;
  for (const auto& s : c.fdb_static) {
    auto [it, fresh] = statics.emplace(FdbKey::make(s.vlan, s.mac).raw, &s);
    if (!fresh && it->second->port != s.port)
      fail("--fdb-static '{}': the same MAC and VLAN is static on port '{}' already ('{}')", s.text,
           it->second->port, it->second->text);
  }
  if (statics.size() > c.fdb_size)
    fail("--fdb-static: {} static entries do not fit an FDB of {} entries (see --fdb-size)", statics.size(),
         c.fdb_size);
  if (vm.count("config")) c.config_file = vm["config"].as<std::string>();
  c.dp = read_dataplane(vm);
  return c;
}

}  // namespace

ParsedArgs parse_args(int argc, const char* const* argv) {
  po::options_description generic("General options", kHelpWidth, kHelpWidth - 40);
  // clang-format off
  generic.add_options()
    ("help,h", "show this help and exit")
    ("version", "show the version and exit")
    ("check-config", "check the options and the config file, print \"configuration OK\" or the "
       "first problem, and exit (0 or 2) without starting anything")
    ("config", po::value<std::string>(), "read options from FILE (key = value, # comments)");
  // clang-format on
  po::options_description sw = switch_options();
  po::options_description all(kHelpWidth, kHelpWidth - 40);
  all.add(generic).add(sw);

  ParsedArgs out;
  std::ostringstream help;
  help << "Usage: tapswitch [OPTIONS]\n"
          "A poll-mode Ethernet switch for TAP ports, on DPDK.\n\n"
       << all;
  out.help = help.str();

  po::variables_map vm;
  // The options the config file gave: key, first value, and how many equal ones came before
  // (their line is looked up only for a value error).
  struct FromFile {
    std::string key, value;
    unsigned earlier;
  };
  std::vector<FromFile> from_file;
  std::string config_path;
  try {
    po::positional_options_description none;  // tapswitch takes no positional arguments
    po::store(po::command_line_parser(argc, argv).options(all).positional(none).run(), vm);
    if (vm.count("help")) {
      out.action = ParsedArgs::Action::help;
      return out;
    }
    if (vm.count("version")) {
      out.action = ParsedArgs::Action::version;
      return out;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::error_code ec;  // a directory opens as an empty file
      if (std::filesystem::is_directory(path, ec)) fail("--config: '{}' is a directory, not a file", path);
      std::ifstream in(path, std::ios::binary);
      if (!in) fail("--config: cannot read '{}'", path);
      // Read up to a bound: --config /dev/zero (or any endless stream) would otherwise take
      // memory until the process is killed.
      std::string body;
      char chunk[65536];
      while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        body.append(chunk, static_cast<size_t>(in.gcount()));
        if (body.size() > kMaxConfigBytes)
          fail("--config: '{}' is larger than {} KB, too large for a config file", path, kMaxConfigBytes / 1024);
      }
      if (body.rfind("\xEF\xBB\xBF", 0) == 0) body.erase(0, 3);  // a UTF-8 byte-order mark, as some editors write
      std::istringstream lines(body);
      try {
        const po::parsed_options parsed = po::parse_config_file(lines, sw);
        po::store(parsed, vm);
        config_path = path;
        for (const auto& o : parsed.options) {
          const std::string v = o.value.empty() ? "" : o.value.front();
          const auto same = [&](const FromFile& f) { return f.key == o.string_key && f.value == v; };
          from_file.push_back({o.string_key, v,
                               static_cast<unsigned>(std::count_if(from_file.begin(), from_file.end(), same))});
        }
      } catch (const po::invalid_config_file_syntax& e) {
        fail("config file '{}'{}: {} (a line is `key = value`, e.g. `port = tap:vm1`)", path,
             line_of(path, [&](const std::string& l) { return l == e.tokens(); }), describe(e));
      } catch (const po::unknown_option& e) {
        const std::string key = e.get_option_name();
        if (const size_t dot = key.find('.'); dot != std::string::npos) {  // Boost read a [section]
          const std::string section = "[" + key.substr(0, dot) + "]";
          fail("config file '{}'{}: '{}': a config file has no sections, only `key = value` lines", path,
               line_of(path, [&](const std::string& l) { return l == section; }), section);
        }
        fail("config file '{}'{}: {}", path,
             line_of(path, [&](const std::string& l) { return key_value(l).first == key; }), describe(e));
      } catch (const po::multiple_occurrences& e) {
        std::string key = e.get_option_name();
        if (key.rfind("--", 0) == 0) key.erase(0, 2);
        fail("config file '{}'{}: {}", path,
             line_of(path, [&](const std::string& l) { return key_value(l).first == key; }, 1), describe(e));
      } catch (const po::error& e) {
        fail("config file '{}': {}", path, describe(e));
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    fail("{} (see tapswitch --help)", describe(e));
  }
  try {
    out.config = to_config(vm);
  } catch (const Error& e) {
    // A bad value from the config file: say where it is. The message names the option (--KEY or
    // KEY) and quotes the value; the command line's value, when both give one, is another.
    // The last such line: of two equal ones, the second is the duplicate.
    const std::string msg = e.what();
    for (auto o = from_file.rbegin(); o != from_file.rend(); ++o)
      if ((msg.rfind("--" + o->key, 0) == 0 || msg.rfind(o->key + " ", 0) == 0) &&
          msg.find("'" + printable(o->value) + "'") != std::string::npos)  // as fail() wrote it
        fail("{} (config file '{}'{})", msg, config_path,
             line_of(config_path, [&](const std::string& l) { return key_value(l) == std::pair(o->key, o->value); },
                     o->earlier));
    throw;
  }
  if (vm.count("check-config")) out.action = ParsedArgs::Action::check;
  return out;
}

}  // namespace tapswitch
