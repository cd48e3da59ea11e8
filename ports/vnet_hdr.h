// The virtio-net header that precedes every frame on a tap fd opened with IFF_VNET_HDR, and its
// mapping onto mbuf offload fields.
//
// Inside tapswitch a frame's offload state is DPDK's transmit convention, whatever port it came
// from (DPDK's vhost library does the same for guests):
//   RTE_MBUF_F_TX_IPV4 / _IPV6             the L3 protocol (required with any flag below)
//   RTE_MBUF_F_TX_TCP_CKSUM / _UDP_CKSUM   the L4 checksum is partial: the field holds the sum
//                                          of the pseudo-header, the rest is still to be added
//   RTE_MBUF_F_TX_TCP_SEG / _UDP_SEG       a GSO frame: TCP (TSO) or UDP (USO) payload to cut
//                                          into tso_segsz-byte pieces; implies a partial checksum
//   l2_len, l3_len, l4_len, tso_segsz      the header lengths and the segment payload size
//   RTE_MBUF_F_RX_L4_CKSUM_GOOD            the L4 checksum is complete and was verified
// The pseudo-header sum in a partial checksum is the sender kernel's (it includes the L4 length
// of the whole frame, also for GSO frames); tapswitch passes it along untouched and never relies
// on it when it completes a checksum itself (switch/egress_offload.h).
//
// Byte order: the header is in host order, the tun default on little-endian hosts; a
// cross-endian (big-endian) header is refused when a port opens.
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace tapswitch {

struct VnetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;      // bytes of headers before the GSO payload (a hint)
  uint16_t gso_size = 0;     // payload bytes per segment
  uint16_t csum_start = 0;   // where checksumming starts (the L4 header)
  uint16_t csum_offset = 0;  // where the checksum goes, from csum_start
  uint16_t num_buffers = 0;  // virtio_net_hdr_mrg_rxbuf only: zero on a tap
};
static_assert(sizeof(VnetHdr) == 12, "virtio_net_hdr_mrg_rxbuf layout");

constexpr uint8_t kVnetFNeedsCsum = 1;
constexpr uint8_t kVnetFDataValid = 2;
constexpr uint8_t kVnetGsoNone = 0;
constexpr uint8_t kVnetGsoTcpV4 = 1;
constexpr uint8_t kVnetGsoUdp = 3;  // UFO: never offered, so refused
constexpr uint8_t kVnetGsoTcpV6 = 4;
constexpr uint8_t kVnetGsoUdpL4 = 5;  // USO, Linux 6.2+
constexpr uint8_t kVnetGsoEcn = 0x80;

// Maps a received header onto a freshly received mbuf (pkt_len, data_len and the chain already
// set): ol_flags, l2/l3/l4_len, tso_segsz. A partial checksum of a kind the mbuf flags cannot
// name (not TCP or UDP) is completed in place instead. Returns false, leaving the mbuf's offload
// fields unspecified, for a header that does not fit the frame (bad offsets, GSO without a
// partial checksum, UFO, a GSO type that does not match the frame's protocols).
bool vnet_hdr_to_mbuf(const VnetHdr& h, rte_mbuf* m) noexcept;

// Builds the header to send an mbuf with: the inverse of vnet_hdr_to_mbuf. The caller has made
// sure the port accepts whatever offload the mbuf asks for (switch/egress_offload.h).
VnetHdr mbuf_to_vnet_hdr(const rte_mbuf* m) noexcept;

// DPDK's receive convention for offloaded frames, as net_vhost reports a guest's when the port
// asks for checksum and LRO offloads: RTE_MBUF_F_RX_L4_CKSUM_NONE ("the checksum in the packet
// is not correct, but the data is": a partial checksum) and RTE_MBUF_F_RX_LRO with tso_segsz (a
// GSO packet), mapped onto the convention above, as if the same frame had come with a virtio-net
// header; the rx flags are cleared (a verified checksum stays RTE_MBUF_F_RX_L4_CKSUM_GOOD).
// Returns false, for the caller to drop, for a frame that cannot be described (not TCP or UDP
// over IPv4 or IPv6 without extension headers), and for UDP with LRO: DPDK's vhost library sets
// LRO on UDP only for a guest's UFO packet (VIRTIO_NET_HDR_GSO_UDP: one datagram, to be sent as
// IP fragments; it does not read USO headers), which tapswitch never carries (kVnetGsoUdp).
bool rx_offloads_to_mbuf(rte_mbuf* m) noexcept;

// The ones' complement sum (folded, not inverted) of len bytes of frame m from offset off, over
// its chain: what rte_raw_cksum_mbuf() computes, but also right when a segment starts at an odd
// offset of the range (DPDK 22.11 cuts that segment's 32-bit sum to 16 bits before it swaps its
// bytes, and so loses its carries). False if the range is not in the frame.
bool raw_cksum_mbuf(const rte_mbuf* m, uint32_t off, uint32_t len, uint16_t* cksum) noexcept;

// Where the L3 header starts in a frame (after the Ethernet header and up to two VLAN tags) and
// its EtherType, host order. Returns 0 if the frame is too short.
uint16_t l2_header_len(const uint8_t* frame, uint32_t len, uint16_t* ether_type) noexcept;

}  // namespace tapswitch
