// Building test frames in mbufs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <rte_mbuf.h>

namespace tapswitch::test {

using Mac = std::array<uint8_t, 6>;

Mac mac(const std::string& text);  // "02:00:00:00:00:01"
extern const Mac kBroadcast;

// An Ethernet frame of `len` bytes (header included), optionally 802.1Q-tagged with `vlan`,
// with a payload that records `seq`.
rte_mbuf* make_frame(const Mac& dst, const Mac& src, uint16_t len = 60, int vlan = -1, uint32_t seq = 0);
// A frame from raw bytes.
rte_mbuf* make_raw(const std::vector<uint8_t>& bytes);
std::vector<uint8_t> bytes_of(const rte_mbuf* m);

// Owns a test mbuf (or chain) and frees it at the end of the scope.
struct MbufPtr {
  rte_mbuf* m;
  explicit MbufPtr(rte_mbuf* p) : m(p) {}
  ~MbufPtr() { rte_pktmbuf_free(m); }
  MbufPtr(const MbufPtr&) = delete;
  MbufPtr& operator=(const MbufPtr&) = delete;
  rte_mbuf* operator->() const { return m; }
};

}  // namespace tapswitch::test
