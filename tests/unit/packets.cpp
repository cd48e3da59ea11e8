#include "tests/unit/packets.h"

#include <cstring>
#include <stdexcept>

#include "tests/unit/eal_env.h"

namespace tapswitch::test {

namespace {

void put16(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  put16(b, off, v >> 16);
  put16(b, off + 2, v & 0xffff);
}
uint16_t get16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}

// Sum of the pseudo-header for an L4 segment of `l4len` bytes.
uint32_t pseudo_sum(const std::vector<uint8_t>& b, size_t l3, bool v6, uint8_t proto, uint32_t l4len) {
  uint32_t sum = 0;
  if (v6) {
    sum = ones_sum(&b[l3 + 8], 32);
    sum += (l4len >> 16) + (l4len & 0xffff) + proto;
  } else {
    sum = ones_sum(&b[l3 + 12], 8);
    sum += l4len + proto;
  }
  return sum;
}

uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

}  // namespace

uint16_t ones_sum(const uint8_t* p, size_t n, uint32_t sum) {
  uint64_t s = sum;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
  if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

uint32_t l2_len_of(const PacketSpec& s) { return s.vlan >= 0 ? 18 : 14; }
uint32_t l3_len_of(const PacketSpec& s) { return s.ipv6 ? 40 : 20; }
uint32_t l4_len_of(const PacketSpec& s) { return s.udp ? 8 : 20u + s.tcp_options; }

std::vector<uint8_t> packet_bytes(const PacketSpec& s) {
  const size_t l2 = l2_len_of(s), l3 = l3_len_of(s), l4 = l4_len_of(s);
  std::vector<uint8_t> b(l2 + l3 + l4 + s.payload);
  const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  std::memcpy(b.data(), macs, 12);
  if (s.vlan >= 0) {
    put16(b, 12, 0x8100);
    put16(b, 14, static_cast<uint32_t>(s.vlan));
  }
  put16(b, l2 - 2, s.ipv6 ? 0x86dd : 0x0800);
  const uint8_t proto = s.udp ? 17 : 6;
  const uint32_t l4len = static_cast<uint32_t>(l4 + s.payload);
  if (s.ipv6) {
    b[l2] = 0x60;
    put16(b, l2 + 4, l4len);
    b[l2 + 6] = proto;
    b[l2 + 7] = 64;
    b[l2 + 8] = 0xfd;
    b[l2 + 23] = 1;
    b[l2 + 24] = 0xfd;
    b[l2 + 39] = 2;
  } else {
    b[l2] = 0x45;
    put16(b, l2 + 2, static_cast<uint32_t>(l3 + l4len));
    put16(b, l2 + 4, 0x1234);
    put16(b, l2 + 6, 0x4000);  // DF
    b[l2 + 8] = 64;
    b[l2 + 9] = proto;
    put32(b, l2 + 12, 0x0a000001);
    put32(b, l2 + 16, 0x0a000002);
    put16(b, l2 + 10, static_cast<uint16_t>(~ones_sum(&b[l2], 20)));
  }
  const size_t t = l2 + l3;
  put16(b, t, 40000);
  put16(b, t + 2, 5201);
  if (s.udp) {
    put16(b, t + 4, l4len);
  } else {
    put32(b, t + 4, s.seq);
    put32(b, t + 8, 1);
    b[t + 12] = static_cast<uint8_t>((l4 / 4) << 4);
    b[t + 13] = s.tcp_flags;
    put16(b, t + 14, 65535);
    for (size_t i = 20; i < l4; ++i) b[t + i] = 1;  // NOP options
  }
  for (uint32_t i = 0; i < s.payload; ++i) b[t + l4 + i] = static_cast<uint8_t>((i * 7 + 3) & 0xff);
  const size_t csum = t + (s.udp ? 6 : 16);
  const uint32_t ps = pseudo_sum(b, l2, s.ipv6, proto, l4len);
  if (s.partial) {
    put16(b, csum, fold(ps));
  } else {
    uint16_t c = static_cast<uint16_t>(~ones_sum(&b[t], l4len, ps));
    if (s.udp && c == 0) c = 0xffff;
    put16(b, csum, c);
  }
  return b;
}

rte_mbuf* to_mbuf_cut(const std::vector<uint8_t>& bytes, const std::vector<uint32_t>& segs) {
  rte_mbuf* head = nullptr;
  rte_mbuf* prev = nullptr;
  size_t off = 0;
  for (const uint32_t n : segs) {
    rte_mbuf* m = rte_pktmbuf_alloc(n > 2048 ? big_pool().get() : pool().get());
    char* p = m ? rte_pktmbuf_append(m, static_cast<uint16_t>(n)) : nullptr;
    if (!p) {
      if (m) rte_pktmbuf_free(m);
      if (head) rte_pktmbuf_free(head);
      return nullptr;
    }
    if (n) std::memcpy(p, bytes.data() + off, n);
    off += n;
    if (!head) {
      head = m;
    } else {
      prev->next = m;
      head->nb_segs++;
      head->pkt_len += n;
    }
    prev = m;
  }
  return head;
}

rte_mbuf* to_mbuf(const std::vector<uint8_t>& bytes, uint32_t seg) {
  std::vector<uint32_t> segs;
  size_t off = 0;
  do {
    segs.push_back(static_cast<uint32_t>(std::min<size_t>(seg, bytes.size() - off)));
    off += segs.back();
  } while (off < bytes.size());
  rte_mbuf* m = to_mbuf_cut(bytes, segs);
  if (!m) throw std::runtime_error("test pool empty, or a segment too long");
  return m;
}

bool checksums_ok(const std::vector<uint8_t>& b) {
  size_t l2 = 14;
  while (l2 + 2 <= b.size() && (get16(b, l2 - 2) == 0x8100 || get16(b, l2 - 2) == 0x88a8)) l2 += 4;
  const uint16_t et = get16(b, l2 - 2);
  size_t l3;
  uint8_t proto;
  uint32_t l4len;
  if (et == 0x0800) {
    l3 = (b[l2] & 0xf) * 4u;
    if (ones_sum(&b[l2], l3) != 0xffff) return false;
    if (get16(b, l2 + 2) != b.size() - l2) return false;
    proto = b[l2 + 9];
    l4len = static_cast<uint32_t>(b.size() - l2 - l3);
  } else if (et == 0x86dd) {
    l3 = 40;
    if (get16(b, l2 + 4) != b.size() - l2 - 40) return false;
    proto = b[l2 + 6];
    l4len = static_cast<uint32_t>(b.size() - l2 - l3);
  } else {
    return false;
  }
  const size_t t = l2 + l3;
  if (proto == 17 && get16(b, t + 4) != l4len) return false;
  const uint32_t ps = pseudo_sum(b, l2, et == 0x86dd, proto, l4len);
  return ones_sum(&b[t], l4len, ps) == 0xffff;
}

}  // namespace tapswitch::test
