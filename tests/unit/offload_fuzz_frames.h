// Frames for the offload tests (offload_fuzz_test.cpp, offload_regression_test.cpp): valid
// TCP/UDP frames of a random shape (VLAN tags, IPv4 options, IPv6 extension headers, 0 to
// 64 KB), random chain cuts, and the checks on frames that come out of the egress path.
#pragma once

#include <gtest/gtest.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ports/vnet_hdr.h"
#include "switch/egress_offload.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/frames.h"
#include "tests/unit/packets.h"

namespace tapswitch::test {

using Bytes = std::vector<uint8_t>;

inline constexpr uint32_t kMaxIpLen = 65535;

struct Rng {
  std::mt19937 g;
  explicit Rng(uint32_t seed) : g(seed) {}
  uint32_t in(uint32_t lo, uint32_t hi) {  // [lo, hi]
    return lo + static_cast<uint32_t>(g() % (static_cast<uint64_t>(hi) - lo + 1));
  }
  bool pct(unsigned p) { return g() % 100 < p; }
  template <class T>
  T pick(std::initializer_list<T> v) {
    return v.begin()[in(0, static_cast<uint32_t>(v.size() - 1))];
  }
};

inline uint16_t get16(const Bytes& b, size_t off) { return static_cast<uint16_t>((b[off] << 8) | b[off + 1]); }
inline uint32_t get32(const Bytes& b, size_t off) { return (uint32_t{get16(b, off)} << 16) | get16(b, off + 2); }
inline void put16(Bytes& b, size_t off, uint32_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
inline void put32(Bytes& b, size_t off, uint32_t v) {
  put16(b, off, v >> 16);
  put16(b, off + 2, v);
}

// ---- Valid frames ---------------------------------------------------------------------------

struct Shape {
  bool v6 = false, udp = false;
  unsigned tags = 0;      // 0..2 VLAN tags (802.1ad outside, 802.1Q inside)
  uint32_t ip_opts = 0;   // IPv4 option bytes (NOPs), a multiple of 4, <= 40
  std::vector<uint32_t> ext;  // IPv6 extension headers (hop-by-hop first, then destination options): their sizes
  uint32_t tcp_opts = 0;  // a multiple of 4, <= 40
  uint32_t payload = 0;
  uint32_t seq = 0;
  uint16_t ip_id = 0;
  uint8_t tcp_flags = 0x18;
  bool partial = false;  // the L4 checksum holds the pseudo-header sum only (a partial checksum)

  uint32_t l2() const { return 14 + 4 * tags; }
  uint32_t ext_len() const {
    uint32_t n = 0;
    for (uint32_t e : ext) n += e;
    return n;
  }
  uint32_t l3() const { return v6 ? 40 + ext_len() : 20 + ip_opts; }
  uint32_t l4() const { return udp ? 8 : 20 + tcp_opts; }
  uint32_t hdrs() const { return l2() + l3() + l4(); }
  uint32_t csum_field() const { return l2() + l3() + (udp ? 6 : 16); }
};

// The pseudo-header sum (folded, not inverted) of an L4 segment of l4len bytes.
inline uint32_t pseudo(const Bytes& b, size_t l3off, bool v6, uint8_t proto, uint32_t l4len) {
  if (v6) return ones_sum(&b[l3off + 8], 32, (l4len >> 16) + (l4len & 0xffff) + proto);
  return ones_sum(&b[l3off + 12], 8, l4len + proto);
}

inline Bytes build(const Shape& s) {
  Bytes b(s.hdrs() + s.payload);
  const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  std::memcpy(b.data(), macs, 12);
  size_t off = 12;
  for (unsigned t = 0; t < s.tags; ++t) {
    put16(b, off, s.tags == 2 && t == 0 ? 0x88a8 : 0x8100);
    put16(b, off + 2, 100 + t);
    off += 4;
  }
  put16(b, off, s.v6 ? 0x86dd : 0x0800);
  const size_t l3 = s.l2();
  const uint8_t proto = s.udp ? 17 : 6;
  const uint32_t l4len = s.l4() + s.payload;
  if (s.v6) {
    b[l3] = 0x60;
    put16(b, l3 + 4, s.ext_len() + l4len);
    b[l3 + 6] = s.ext.empty() ? proto : 0;
    b[l3 + 7] = 64;
    b[l3 + 8] = 0xfd;
    b[l3 + 23] = 1;
    b[l3 + 24] = 0xfd;
    b[l3 + 39] = 2;
    size_t e = l3 + 40;
    for (size_t i = 0; i < s.ext.size(); ++i) {
      b[e] = i + 1 < s.ext.size() ? 60 : proto;
      b[e + 1] = static_cast<uint8_t>(s.ext[i] / 8 - 1);
      b[e + 2] = 1;  // PadN over the rest
      b[e + 3] = static_cast<uint8_t>(s.ext[i] - 4);
      e += s.ext[i];
    }
  } else {
    b[l3] = static_cast<uint8_t>(0x40 | (s.l3() / 4));
    put16(b, l3 + 2, s.l3() + l4len);
    put16(b, l3 + 4, s.ip_id);
    put16(b, l3 + 6, 0x4000);  // DF
    b[l3 + 8] = 64;
    b[l3 + 9] = proto;
    put32(b, l3 + 12, 0x0a000001);
    put32(b, l3 + 16, 0x0a000002);
    for (uint32_t i = 0; i < s.ip_opts; ++i) b[l3 + 20 + i] = 1;  // NOP
    put16(b, l3 + 10, static_cast<uint16_t>(~ones_sum(&b[l3], s.l3())));
  }
  const size_t t = s.l2() + s.l3();
  put16(b, t, 40000);
  put16(b, t + 2, 5201);
  if (s.udp) {
    put16(b, t + 4, l4len);
  } else {
    put32(b, t + 4, s.seq);
    put32(b, t + 8, 1);
    b[t + 12] = static_cast<uint8_t>((s.l4() / 4) << 4);
    b[t + 13] = s.tcp_flags;
    put16(b, t + 14, 65535);
    for (uint32_t i = 20; i < s.l4(); ++i) b[t + i] = 1;
  }
  for (uint32_t i = 0; i < s.payload; ++i) b[t + s.l4() + i] = static_cast<uint8_t>((i * 7 + 3 + (i >> 8)) & 0xff);
  const uint32_t ps = pseudo(b, l3, s.v6, proto, l4len);
  uint16_t c = static_cast<uint16_t>(ps);
  if (!s.partial) {
    c = static_cast<uint16_t>(~ones_sum(&b[t], l4len, ps));
    if (s.udp && c == 0) c = 0xffff;
  }
  put16(b, s.csum_field(), c);
  return b;
}

inline Shape random_shape(Rng& r, bool for_rx) {
  Shape s;
  s.v6 = r.pct(50);
  s.udp = r.pct(35);
  s.tags = r.pct(60) ? 0 : r.pct(70) ? 1 : 2;
  if (!s.v6 && r.pct(30)) s.ip_opts = 4 * r.in(1, 10);
  if (s.v6 && r.pct(for_rx ? 5 : 30)) {
    const unsigned n = r.in(1, 3);
    for (unsigned i = 0; i < n; ++i) s.ext.push_back(8 * r.in(1, r.pct(10) ? 32 : 4));
  }
  if (!s.udp && r.pct(40)) s.tcp_opts = 4 * r.in(1, 10);
  const uint32_t room = kMaxIpLen - s.l3() - s.l4() + (s.v6 ? 40 : 0);
  switch (r.in(0, 9)) {
    case 0: case 1: case 2: s.payload = r.in(0, 64); break;
    case 3: case 4: s.payload = r.in(0, 1600); break;
    case 5: case 6: s.payload = r.in(1600, 10000); break;
    case 7: s.payload = r.in(10000, room); break;
    case 8: s.payload = room - r.in(0, 16); break;
    default: s.payload = r.in(0, 3000); break;
  }
  s.payload = std::min(s.payload, room);
  s.seq = static_cast<uint32_t>(r.g());
  s.ip_id = static_cast<uint16_t>(r.g());
  s.tcp_flags = r.pick<uint8_t>({0x18, 0x10, 0x19, 0x11, 0x98, 0x90, 0x08, 0x12});
  return s;
}

// ---- Chains ---------------------------------------------------------------------------------

inline constexpr uint32_t kSmallRoom = 2048;  // RTE_MBUF_DEFAULT_DATAROOM

// Segment lengths for a frame of len bytes: one buffer, the switch pool's 2048-byte pieces, or
// random cuts (now and then empty segments after the first).
inline std::vector<uint32_t> random_chain(Rng& r, uint32_t len, uint32_t hdrs) {
  std::vector<uint32_t> segs;
  const uint32_t big_room = UINT16_MAX - RTE_PKTMBUF_HEADROOM;
  const unsigned kind = r.in(0, 9);
  if (kind < 4 && len <= big_room) return {len};
  if (kind < 7) {
    for (uint32_t off = 0; off < len || segs.empty(); off += kSmallRoom) segs.push_back(std::min(kSmallRoom, len - off));
    return segs;
  }
  // Random cuts, at most 48 segments; the first one sometimes shorter than the headers.
  uint32_t first = r.pct(15) ? r.in(0, std::min(len, hdrs)) : r.in(std::min(len, hdrs), std::min(len, 4096u));
  if (first == 0 && len) first = 1;
  segs.push_back(first);
  uint32_t left = len - first;
  const uint32_t min_piece = std::max<uint32_t>(1, left / 40);
  while (left) {
    if (r.pct(3)) segs.push_back(0);
    uint32_t n = std::min(left, r.in(min_piece, std::max(min_piece, std::min<uint32_t>(4 * min_piece + 64, big_room))));
    segs.push_back(n);
    left -= n;
  }
  return segs;
}

// ---- Verification of frames that come out ---------------------------------------------------

// True if the frame is a complete TCP or UDP packet: IP lengths match the frame, IPv4 header
// checksum and L4 checksum right. Sets *l4off.
inline bool frame_ok(const Bytes& b, std::string* why, size_t* l4off = nullptr) {
  auto fail = [&](const char* w) {
    *why = w;
    return false;
  };
  size_t l2 = 14;
  if (b.size() < 14) return fail("runt");
  while (l2 + 4 <= b.size() && (get16(b, l2 - 2) == 0x8100 || get16(b, l2 - 2) == 0x88a8)) l2 += 4;
  const uint16_t et = get16(b, l2 - 2);
  size_t t;
  uint8_t proto;
  if (et == 0x0800) {
    if (b.size() < l2 + 20) return fail("short IPv4");
    const size_t ihl = (b[l2] & 0xf) * 4u;
    if (ihl < 20 || b.size() < l2 + ihl) return fail("IHL");
    if (ones_sum(&b[l2], ihl) != 0xffff) return fail("IPv4 header checksum");
    if (get16(b, l2 + 2) != b.size() - l2) return fail("IPv4 total length");
    proto = b[l2 + 9];
    t = l2 + ihl;
  } else if (et == 0x86dd) {
    if (b.size() < l2 + 40) return fail("short IPv6");
    if (get16(b, l2 + 4) != b.size() - l2 - 40) return fail("IPv6 payload length");
    proto = b[l2 + 6];
    t = l2 + 40;
    while (proto == 0 || proto == 60) {
      if (b.size() < t + 8) return fail("short extension header");
      proto = b[t];
      t += (b[t + 1] + 1u) * 8;
    }
  } else {
    return fail("not IP");
  }
  if (proto != 6 && proto != 17) return fail("not TCP/UDP");
  if (b.size() < t + (proto == 6 ? 20u : 8u)) return fail("short L4 header");
  const uint32_t l4len = static_cast<uint32_t>(b.size() - t);
  if (proto == 17 && get16(b, t + 4) != l4len) return fail("UDP length");
  if (ones_sum(&b[t], l4len, pseudo(b, l2, et == 0x86dd, proto, l4len)) != 0xffff) return fail("L4 checksum");
  if (l4off) *l4off = t;
  return true;
}

inline unsigned gso_ind_in_use() {
  unsigned n = 0;
  rte_mempool_walk(
      [](rte_mempool* mp, void* arg) {
        if (std::strncmp(mp->name, "gso-ind", 7) == 0) *static_cast<unsigned*>(arg) += rte_mempool_in_use_count(mp);
      },
      &n);
  return n;
}

inline bool is_tagged(const Bytes& b) {
  return b.size() >= 14 && (get16(b, 12) == 0x8100 || get16(b, 12) == 0x88a8);
}


}  // namespace tapswitch::test
