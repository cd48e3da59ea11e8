// Software versions of the transmit offloads (ports/vnet_hdr.h describes the mbuf fields):
// checksum completion and segmentation of GSO frames, for ports that cannot do them.
//
// TCP over IPv4 is segmented by DPDK's librte_gso (zero-copy: each segment is a copy of the
// headers chained to an indirect mbuf over the payload). librte_gso in DPDK 22.11 knows neither
// TCP over IPv6 nor UDP segmentation in the USO sense (it only fragments IPv4), so those, and
// frames shared with other egress ports, are cut here by copying each segment's payload. Either way every segment leaves with complete IPv4
// header and L4 checksums, computed from scratch with DPDK's checksum helpers, and no offload
// flags.
//
// No allocation except mbufs from pools, no exceptions. Headers (L2 to L4) must lie in the
// first segment, which vnet_hdr_to_mbuf() checks for every frame with offload flags.
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace tapswitch {

// Writes the complete TCP or UDP checksum (as the mbuf's flags say) into the frame, whose
// first segment must be writable, and clears the checksum and segmentation flags. The length
// comes from the IP header, so Ethernet padding is not summed. Returns false if the IP header
// does not match the frame (lengths beyond it).
bool soft_l4_checksum(rte_mbuf* m) noexcept;

// True if this mbuf's first segment may be written: no other reference to its data.
bool first_segment_private(const rte_mbuf* m) noexcept;

enum class SegmentResult : uint8_t { ok, no_mbuf, too_many, bad };

// Cuts GSO frame m into frames of at most `frame_len` bytes each (headers included; the L4
// payload per segment is frame_len minus the headers), stored in out[0..*n_out). m itself is
// left unchanged (librte_gso is given only frames no other thread can see, as it changes flags
// of its input while it works) and still owned by the caller. `indirect` is the pool for the
// zero-copy payload references, `direct` the one for header and payload copies (the switch's
// pool: m itself may sit in a port's pool of 64 KB buffers). *copied tells whether the
// payload was copied (the segmenter of this file) rather than referenced (librte_gso).
SegmentResult soft_segment(rte_mbuf* m, uint32_t frame_len, rte_mempool* direct, rte_mempool* indirect, rte_mbuf** out,
                           unsigned cap, unsigned* n_out, bool* copied) noexcept;

// A copy of m in one mbuf of `pool` (for ports without multi-segment transmit), or nullptr if
// the pool is empty or the frame does not fit one of its mbufs.
rte_mbuf* soft_linearize(const rte_mbuf* m, rte_mempool* pool) noexcept;

}  // namespace tapswitch
