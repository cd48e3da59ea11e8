// Classifying an Ethernet frame for the switching decision. Inline, per frame, no allocation.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

namespace tapswitch {

constexpr uint16_t kEthHeaderLen = 14;

struct FrameClass {
  uint16_t vlan;        // 802.1Q VLAN id, 0 when untagged or priority-tagged
  bool dst_group;       // broadcast or multicast destination: flood
  bool dst_link_local;  // 01:80:c2:00:00:01..0f: never forwarded (see below)
  bool src_learnable;   // unicast, non-zero source: a station's (others are dropped)
};

// IEEE 802.1D reserves 01:80:c2:00:00:00..0f for link-local protocols that a bridge must not
// forward: pause frames, LACP, 802.1X, LLDP and others. Like the Linux bridge with STP off,
// tapswitch does forward the Bridge Group Address (..:00, STP BPDUs), so that a loop through
// it stays visible to the bridges around it, and drops the rest as "filtered".
inline bool mac_is_link_local_filtered(const uint8_t* mac) noexcept {
  return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 && mac[3] == 0 && mac[4] == 0 &&
         (mac[5] & 0xf0) == 0 && mac[5] != 0;
}

// The VLAN a frame belongs to: the tag the driver stripped, else an 802.1Q header in the frame.
// The caller guarantees data_len >= kEthHeaderLen.
inline uint16_t frame_vlan(const rte_mbuf* m) noexcept {
  if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) return m->vlan_tci & 0x0FFF;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  if (m->data_len >= kEthHeaderLen + 4 && p[12] == 0x81 && p[13] == 0x00)
    return static_cast<uint16_t>(((p[14] << 8) | p[15]) & 0x0FFF);
  return 0;
}

inline bool mac_is_group(const uint8_t* mac) noexcept { return mac[0] & 0x01; }

inline bool mac_is_zero(const uint8_t* mac) noexcept {
  uint16_t a;
  uint32_t b;
  std::memcpy(&a, mac, 2);
  std::memcpy(&b, mac + 2, 4);
  return (a | b) == 0;
}

// Too short to switch: less than an Ethernet header, or an 802.1Q TPID whose tag is cut short
// (15 to 17 bytes): such a frame has no VLAN to be switched in. Call it only for frames of
// fewer than kEthHeaderLen + 4 bytes (it is the rare case).
inline bool is_runt(const rte_mbuf* m) noexcept {
  if (m->data_len < kEthHeaderLen) return true;
  if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) return false;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return p[12] == 0x81 && p[13] == 0x00;
}

// The caller guarantees data_len >= kEthHeaderLen.
inline FrameClass classify(const rte_mbuf* m) noexcept {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* src = p + RTE_ETHER_ADDR_LEN;
  const bool group = mac_is_group(p);
  return FrameClass{frame_vlan(m), group, group && mac_is_link_local_filtered(p),
                    !mac_is_group(src) && !mac_is_zero(src)};
}

}  // namespace tapswitch
