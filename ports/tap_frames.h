// Turning what a raw-fd tap reads into mbufs, and mbufs into what it writes. Shared by the
// syscall path (read/write) and the io_uring path of TapPort.
//
// Receive layout (measured by bench/tap_rx_layout_bench, which keeps the numbers): each frame
// is read with one plain read() into a buffer of the port's pool of 64 KB buffers, its
// virtio-net header (if the fd has one) landing just before the frame in the buffer's headroom.
// A frame that fits an ordinary mbuf of the switch's pool is copied into one and the 64 KB
// buffer is read into again; a larger one (GSO, jumbo) keeps the 64 KB buffer as a single
// segment. One buffer per read lets the kernel copy through a plain user buffer instead of an
// iovec array: 16% cheaper per 60-byte frame than a readv() over header, ordinary mbuf and
// 64 KB mbuf (which itself beat a chain of up to 32 ordinary mbufs), 15% per 1460-byte frame,
// 3-6% per 64 KB frame; a readv() of the same one buffer plus a tail gains nothing.
//
// A frame as long as the whole buffer may have been cut short by the kernel (tun copies what
// fits and says nothing), so it is dropped and counted as oversize: the largest frame read is
// max_rx_frame() bytes (65,406 with the headroom of a 64 KB buffer), above any TCP GSO frame
// Linux builds (at most about 65,300 bytes).
//
// Nothing here allocates except from mempools, and nothing throws.
#pragma once

#include <sys/uio.h>

#include <rte_mbuf.h>

#include <cstdint>

#include "base/counter.h"
#include "ports/vnet_hdr.h"

namespace tapswitch {

// Room for the largest virtio-net header an adopted fd may use (tun allows any size); only the
// first 10 bytes carry meaning, the rest is zero on write and ignored on read.
constexpr unsigned kMaxVnetHdrLen = 64;
struct VnetHdrBuf {
  VnetHdr hdr;
  uint8_t pad[kMaxVnetHdrLen - sizeof(VnetHdr)] = {};
};

// The buffers of one read in flight: the read goes into `big` (TapRxFrames::read_at and
// read_len); `head` waits for the frame to be copied into if it is small.
struct RxSlot {
  rte_mbuf* head = nullptr;  // from the switch's pool
  rte_mbuf* big = nullptr;   // from the port's big pool
};

struct TapRxCounters {
  // paused: times reading stopped for want of a buffer (PortStats::rx_paused)
  Counter packets, bytes, paused, oversize, errors;
  Counter last_error;  // errno of the latest failed read, for `show ports`
};

// The receive side's buffers and rules. One per port; used by the port's rx thread only.
class TapRxFrames {
 public:
  TapRxFrames(rte_mempool* pool, rte_mempool* big_pool, uint8_t vnet_hdr_len, TapRxCounters& counters);

  // Gives the slot its buffers (keeping those it has). False if a pool is empty (the frame waits
  // in the kernel; the first such failure after a success counts in paused); the slot then
  // keeps what it got.
  bool arm(RxSlot& s) noexcept;
  // Where and how much an armed slot reads: header and frame, contiguous in its big buffer.
  uint8_t* read_at(const RxSlot& s) const noexcept { return rte_pktmbuf_mtod(s.big, uint8_t*) - hdr_len_; }
  uint32_t read_len() const noexcept { return max_rx_frame_ + 1 + hdr_len_; }
  // Makes a frame of a read that returned `r` bytes (header included): the slot's buffers pass
  // into the returned mbuf, which the caller owns. Returns nullptr when the frame is dropped
  // (longer than the MTU allows, or a bad header: counted); arm() the slot again either way.
  rte_mbuf* complete(RxSlot& s, size_t r, uint32_t mtu) noexcept;
  // For a packet socket's frame whose VLAN tag the kernel kept aside (ports/link_socket.h): puts
  // the tag back after the MAC addresses by moving the header and the addresses 4 bytes into the
  // buffer's headroom (a partial checksum's offsets move with them), so the slot's read starts
  // 4 bytes earlier until arm(). Returns the read's new length. A read that did not fit is left
  // for complete() to drop.
  size_t insert_vlan(RxSlot& s, size_t r, uint16_t tpid, uint16_t tci) noexcept;
  void count_error(int err) noexcept {
    c_.errors.add();
    c_.last_error.set(static_cast<uint64_t>(err));
  }
  // Returns the slot's buffers to their pools.
  static void release(RxSlot& s) noexcept;

  uint32_t head_room() const noexcept { return head_room_; }
  // The longest frame a read can bring whole (see above).
  uint32_t max_rx_frame() const noexcept { return max_rx_frame_; }

 private:
  rte_mempool* pool_;
  rte_mempool* big_pool_;
  uint8_t hdr_len_;
  uint32_t head_room_ = 0;
  uint32_t max_rx_frame_ = 0;
  bool paused_ = false;  // the last arm() found no buffer: counted once until one succeeds
  TapRxCounters& c_;
};

// For a frame in one mbuf that nothing else holds: writes its virtio-net header (if hdr_len)
// just before its data and returns where the header starts, so that header and frame go out in
// one write(): 2.8% more 60 B frames forwarded than with writev() and a separate header (median
// of five alternating pairs of 60 B trafgen runs through two taps, every pair in favour).
// nullptr when the frame is chained, shared (flooded to ports that may still be sending it),
// indirect, or lacks the headroom; those take tx_iov() and writev().
uint8_t* header_in_headroom(rte_mbuf* m, uint8_t hdr_len) noexcept;

// The iovecs to write mbuf `m` with: its header, built into `hdr`, if hdr_len, then each
// segment. Returns their count, or 0 if the chain has kMaxTxIov segments or more.
constexpr unsigned kMaxTxIov = 64;
unsigned tx_iov(const rte_mbuf* m, VnetHdrBuf& hdr, uint8_t hdr_len, iovec* iov) noexcept;

}  // namespace tapswitch
