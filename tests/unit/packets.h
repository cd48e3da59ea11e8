// Building TCP and UDP packets (IPv4, IPv6, optionally 802.1Q-tagged) for the offload tests,
// and checking them with a checksum written independently of DPDK's.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

namespace tapswitch::test {

struct PacketSpec {
  bool ipv6 = false;
  bool udp = false;
  int vlan = -1;             // 802.1Q tag, or none
  uint32_t payload = 100;    // L4 payload bytes
  uint32_t seq = 1000;       // TCP sequence number
  uint8_t tcp_flags = 0x18;  // PSH|ACK
  uint8_t tcp_options = 0;   // bytes of TCP options (multiple of 4)
  bool partial = false;      // leave the L4 checksum partial: the pseudo-header sum only
};

// The bytes of such a packet; the payload is byte i = (i * 7 + 3) & 0xff.
std::vector<uint8_t> packet_bytes(const PacketSpec& s);
uint32_t l2_len_of(const PacketSpec& s);
uint32_t l3_len_of(const PacketSpec& s);
uint32_t l4_len_of(const PacketSpec& s);

// Copies bytes into a chain of mbufs of at most `seg` bytes each (from the test pool, or for
// segments over its room, a pool of 64 KB buffers).
rte_mbuf* to_mbuf(const std::vector<uint8_t>& bytes, uint32_t seg = 2048);
// The same, cut into segments of the given lengths (0 for an empty segment; they must add up to
// the frame's length); nullptr if a pool ran dry or a length exceeds a segment's room.
rte_mbuf* to_mbuf_cut(const std::vector<uint8_t>& bytes, const std::vector<uint32_t>& segs);

// True if the IPv4 header checksum (if any) and the TCP/UDP checksum of a full packet are
// right, and the IP length fields match the bytes.
bool checksums_ok(const std::vector<uint8_t>& bytes);

// Ones' complement sum, for the tests' own checks.
uint16_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0);

}  // namespace tapswitch::test
