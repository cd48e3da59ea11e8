#include "ports/port_spec.h"

#include <charconv>
#include <string_view>

#include "base/error.h"

namespace tapswitch {

const char* to_string(PortKind kind) {
  switch (kind) {
    case PortKind::tap: return "tap";
    case PortKind::tapfd: return "tapfd";
    case PortKind::link: return "link";
    case PortKind::dpdk: return "dpdk";
  }
  return "?";
}

const char* to_string(TapIo io) {
  switch (io) {
    case TapIo::automatic: return "auto";
    case TapIo::uring: return "uring";
    case TapIo::syscall: return "syscall";
  }
  return "?";
}

const std::string* PortSpec::opt(const std::string& key) const {
  for (const auto& [k, v] : opts)
    if (k == key) return &v;
  return nullptr;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

void check_ifname(const std::string& spec, const std::string& what, const std::string& name) {
  if (name.empty()) fail("port '{}': {} is empty", spec, what);
  if (name.size() > kMaxIfNameLen)
    fail("port '{}': {} '{}' is {} characters long; interface names have at most {}", spec, what,
         name, name.size(), kMaxIfNameLen);
  for (char c : name) {
    if (c == '%')  // the kernel takes a name with % for a template (tap%d: the first free tap0, tap1, ...)
      fail("port '{}': {} '{}' contains '%', which the kernel reads as a name template; give the name itself",
           spec, what, name);
    if (c == '/' || c == ':' || c == ',' || c == '=' || c <= ' ' || c > '~')
      fail("port '{}': {} '{}' contains the character {}, not allowed in interface names", spec, what, name,
           c > ' ' && c <= '~' ? fmt::format("'{}'", c) : fmt::format("\\x{:02x}", static_cast<uint8_t>(c)));
  }
  if (name == "." || name == "..") fail("port '{}': '{}' is not a valid interface name", spec, name);
}

// key=val options after the first comma; `allowed` lists the keys this kind accepts.
void parse_opts(PortSpec& ps, const std::vector<std::string>& parts,
                std::initializer_list<const char*> allowed) {
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& kv = parts[i];
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("port '{}': option '{}' is not of the form key=value", ps.text, kv);
    std::string key = kv.substr(0, eq);
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known |= key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!known)
      fail("port '{}': unknown option '{}' (known: {})", ps.text, key, list.empty() ? "none" : list);
    if (ps.opt(key)) fail("port '{}': option '{}' given twice", ps.text, key);
    ps.opts.emplace_back(key, kv.substr(eq + 1));
  }
}

// `max`: kMaxTapMtu for a kernel tap, else kMaxMtu.
uint32_t parse_mtu(const std::string& spec, const std::string& v, uint32_t max) {
  uint32_t mtu = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), mtu);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || mtu < kMinMtu || mtu > max)
    fail("port '{}': mtu '{}' is not a number from {} to {}{}", spec, v, kMinMtu, max,
         max == kMaxTapMtu ? " (a tap's largest MTU)" : "");
  return mtu;
}

uint16_t parse_queues(const std::string& spec, const std::string& v) {
  unsigned n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 1 || n > kMaxQueues)
    fail("port '{}': queues='{}' must be a number from 1 to {}", spec, v, kMaxQueues);
  return static_cast<uint16_t>(n);
}

// The typed raw-fd tap options.
void parse_tap_opts(PortSpec& ps) {
  if (const std::string* v = ps.opt("offload")) {
    if (*v != "on" && *v != "off") fail("port '{}': offload must be on or off, not '{}'", ps.text, *v);
    ps.offload = *v == "on";
  }
  if (const std::string* v = ps.opt("mtu")) ps.mtu = parse_mtu(ps.text, *v, kMaxTapMtu);
  if (const std::string* v = ps.opt("queues")) ps.queues = parse_queues(ps.text, *v);
  if (const std::string* v = ps.opt("io")) {
    if (*v == "uring")
      ps.io = TapIo::uring;
    else if (*v == "syscall")
      ps.io = TapIo::syscall;
    else
      fail("port '{}': io must be uring or syscall, not '{}'", ps.text, *v);
  }
}

}  // namespace

PortSpec parse_port_spec(const std::string& text) {
  // A control character (a NUL cuts the message short wherever it is printed) is named, never quoted.
  for (size_t i = 0; i < text.size(); ++i)
    if (static_cast<uint8_t>(text[i]) < 0x20 || text[i] == 0x7f)
      fail("port '{}...': the spec contains the control character \\x{:02x} at byte {}", text.substr(0, i),
           static_cast<uint8_t>(text[i]), i);
  PortSpec ps;
  ps.text = text;
  size_t colon = text.find(':');
  if (colon == std::string::npos)
    fail("port '{}': expected KIND:ARGS, where KIND is tap, tapfd, link or dpdk", text);
  std::string kind = text.substr(0, colon);
  std::string rest = text.substr(colon + 1);
  auto parts = split(rest, ',');

  if (kind == "tap") {
    ps.kind = PortKind::tap;
    check_ifname(text, "interface name", parts[0]);
    ps.name = ps.ifname = parts[0];
    parse_opts(ps, parts, {"offload", "mtu", "io", "queues", "recreate"});
    parse_tap_opts(ps);
    if (const std::string* r = ps.opt("recreate")) {
      if (*r != "on" && *r != "off") fail("port '{}': recreate='{}' must be on or off", text, *r);
      ps.recreate = *r == "on";
    }
  } else if (kind == "tapfd") {
    ps.kind = PortKind::tapfd;
    const std::string& n = parts[0];
    int fd = -1;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), fd);
    if (n.empty() || ec != std::errc() || p != n.data() + n.size() || fd < 0)
      fail("port '{}': '{}' is not a file descriptor number", text, n);
    if (fd <= 2) fail("port '{}': fd {} is stdin, stdout or stderr, not a tap", text, fd);
    ps.fd = fd;
    parse_opts(ps, parts, {"name", "offload", "mtu", "io", "queues"});
    parse_tap_opts(ps);
    if (const std::string* label = ps.opt("name")) {
      check_ifname(text, "name", *label);
      ps.name = *label;
    }
  } else if (kind == "link") {
    ps.kind = PortKind::link;
    check_ifname(text, "interface name", parts[0]);
    ps.name = ps.ifname = parts[0];
    // No offload=off: without the header, a frame with a partial checksum (as veth peers and
    // guests send by default) could not be told from a corrupt one.
    parse_opts(ps, parts, {"queues", "ring"});
    if (const std::string* v = ps.opt("queues")) ps.queues = parse_queues(ps.text, *v);
    if (const std::string* v = ps.opt("ring")) {
      if (*v != "on" && *v != "off") fail("port '{}': ring must be on or off, not '{}'", text, *v);
      ps.ring = *v == "on";
    }
    ps.io = TapIo::syscall;  // a packet socket's frames need recvmsg() (ports/link_socket.h)
  } else if (kind == "dpdk") {
    ps.kind = PortKind::dpdk;
    if (rest.empty() || parts[0].empty())
      fail("port '{}': expected dpdk:DEVARGS, e.g. dpdk:net_tap0,iface=vm1", text);
    ps.name = parts[0];
    const bool vhost = parts[0].rfind("net_vhost", 0) == 0 || parts[0].rfind("eth_vhost", 0) == 0;
    const bool net_tap = parts[0].rfind("net_tap", 0) == 0;  // a kernel tap underneath
    ps.devargs = parts[0];
    ps.offload = vhost;  // measured and tested for net_vhost only (EthdevPort::setup says why)
    bool offload_given = false, queues_given = false, iface_given = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i].rfind("offload=", 0) == 0) {  // tapswitch's, not the driver's
        const std::string v = parts[i].substr(8);
        if (offload_given) fail("port '{}': option 'offload' given twice", text);
        if (v != "on" && v != "off") fail("port '{}': offload must be on or off, not '{}'", text, v);
        ps.offload = v == "on";
        offload_given = true;
        continue;
      }
      if (parts[i].rfind("mtu=", 0) == 0) {  // tapswitch's, not the driver's
        if (ps.mtu) fail("port '{}': option 'mtu' given twice", text);
        ps.mtu = parse_mtu(text, parts[i].substr(4), net_tap ? kMaxTapMtu : kMaxMtu);
        continue;
      }
      if (parts[i].rfind("queues=", 0) == 0) {
        if (queues_given) fail("port '{}': option 'queues' given twice", text);
        ps.queues = parse_queues(text, parts[i].substr(7));
        queues_given = true;
        if (!vhost) continue;
      }
      // Drivers differ on a devarg given twice (net_af_packet takes the first iface=, net_tap
      // the last), and tapswitch names the port and checks its interface by the one it reads.
      if (parts[i].rfind("iface=", 0) == 0) {
        if (iface_given) fail("port '{}': option 'iface' given twice", text);
        iface_given = true;
      }
      ps.devargs += "," + parts[i];
      // net_vhost's iface= is a socket path, not a kernel interface.
      if (!vhost && parts[i].rfind("iface=", 0) == 0) {
        ps.ifname = parts[i].substr(6);
        check_ifname(text, "iface", ps.ifname);
        ps.name = ps.ifname;
      }
    }
  } else {
    fail("port '{}': unknown port kind '{}' (expected tap, tapfd, link or dpdk)", text, kind);
  }
  return ps;
}

namespace {

std::string_view dpdk_device(const PortSpec& s) {
  const std::string_view d = s.devargs;
  return d.substr(0, d.find(','));
}

// Fails if `added` names the same port, interface, fd or DPDK device as `other`, quoting
// `added` and naming `other`.
void check_distinct(const PortSpec& other, const PortSpec& added) {
  if (!added.name.empty() && added.name == other.name)
    fail("port '{}': a port named '{}' is already configured, as '{}'", added.text, added.name, other.text);
  if (!added.ifname.empty() && added.ifname == other.ifname)
    fail("port '{}': interface '{}' is already used by port '{}'", added.text, added.ifname, other.text);
  if (added.fd >= 0 && added.fd == other.fd)
    fail("port '{}': fd {} is already used by port '{}'", added.text, added.fd, other.text);
  if (added.kind == PortKind::dpdk && other.kind == PortKind::dpdk && dpdk_device(added) == dpdk_device(other))
    fail("port '{}': DPDK device '{}' is already configured, as '{}'", added.text, dpdk_device(added), other.text);
}

}  // namespace

void check_unique(const std::vector<PortSpec>& specs) {
  for (auto it = specs.begin(); it != specs.end(); ++it)
    for (auto prev = specs.begin(); prev != it; ++prev) check_distinct(*prev, *it);
}

void check_unique(const std::vector<PortSpec>& existing, const PortSpec& added) {
  for (const PortSpec& other : existing) check_distinct(other, added);
}

}  // namespace tapswitch
