#include "fdb/fdb_static.h"

#include <charconv>
#include <vector>

#include "base/error.h"
#include "fdb/fdb.h"

namespace tapswitch {

bool parse_mac(std::string_view s, uint8_t out[6]) {
  if (s.size() != 17) return false;
  for (unsigned i = 0; i < 6; ++i) {
    const char* p = s.data() + 3 * i;
    if (i > 0 && p[-1] != ':' && p[-1] != '-') return false;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p, p + 2, v, 16);
    if (ec != std::errc() || end != p + 2) return false;
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

std::string static_mac_problem(const uint8_t mac[6], std::string_view text) {
  if (mac[0] & 1) return fmt::format("{} is a group address; static entries are for unicast MACs", text);
  if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) return "the all-zero MAC cannot be an entry";
  return {};
}

FdbStaticSpec parse_fdb_static(const std::string& text) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    f.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  FdbStaticSpec s;
  s.text = text;
  if (f.size() < 2 || f.size() > 3) fail("--fdb-static '{}': expected MAC,PORT[,VLAN]", text);
  if (!parse_mac(f[0], s.mac)) fail("--fdb-static '{}': '{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text, f[0]);
  if (const std::string why = static_mac_problem(s.mac, f[0]); !why.empty()) fail("--fdb-static '{}': {}", text, why);
  s.port = f[1];
  if (s.port.empty()) fail("--fdb-static '{}': the port name is empty", text);
  if (f.size() == 3) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), v);
    if (f[2].empty() || ec != std::errc() || end != f[2].data() + f[2].size() || v > 4094)
      fail("--fdb-static '{}': VLAN '{}' is not a number from 0 to 4094", text, f[2]);
    s.vlan = static_cast<uint16_t>(v);
  }
  return s;
}

void add_static_entries(Fdb& fdb, const std::vector<FdbStaticSpec>& specs,
                        const std::function<int(const std::string&)>& port_id) {
  for (const auto& s : specs) {
    const int id = port_id(s.port);
    if (id < 0) fail("--fdb-static '{}': there is no port named '{}'", s.text, s.port);
    if (fdb.add_static(FdbKey::make(s.vlan, s.mac), static_cast<uint16_t>(id)) == FdbAdd::full)
      fail("--fdb-static '{}': the FDB is full of static entries (see --fdb-size)", s.text);
  }
}

}  // namespace tapswitch
