#include "tests/unit/frames.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tests/unit/eal_env.h"

namespace tapswitch::test {

const Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

Mac mac(const std::string& text) {
  Mac m{};
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
    throw std::invalid_argument("bad MAC " + text);
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(b[i]);
  return m;
}

rte_mbuf* make_raw(const std::vector<uint8_t>& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool().get());
  if (!m) throw std::runtime_error("test pool empty");
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  if (!p && !bytes.empty()) throw std::runtime_error("frame too long for one mbuf");
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

rte_mbuf* make_frame(const Mac& dst, const Mac& src, uint16_t len, int vlan, uint32_t seq) {
  std::vector<uint8_t> f(len, 0x41);
  if (len < 14) return make_raw(std::vector<uint8_t>(dst.begin(), dst.begin() + std::min<size_t>(len, 6)));
  std::memcpy(f.data(), dst.data(), 6);
  std::memcpy(f.data() + 6, src.data(), 6);
  size_t off = 12;
  if (vlan >= 0) {
    f[off++] = 0x81;
    f[off++] = 0x00;
    f[off++] = static_cast<uint8_t>((vlan >> 8) & 0x0f);
    f[off++] = static_cast<uint8_t>(vlan & 0xff);
  }
  f[off++] = 0x88;  // IEEE local experimental ethertype
  f[off++] = 0xb5;
  if (off + 4 <= f.size()) std::memcpy(f.data() + off, &seq, 4);
  return make_raw(f);
}

std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> out(m->pkt_len);
  if (out.empty()) return out;  // (memcpy into an empty vector's null buffer is undefined)
  const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, out.data());
  if (p != out.data()) std::memcpy(out.data(), p, m->pkt_len);
  return out;
}

}  // namespace tapswitch::test
