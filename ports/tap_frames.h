// Turning what a raw-fd tap reads into mbufs, and mbufs into what it writes. Shared by the
// syscall path (readv/writev) and the io_uring path of TapPort.
//
// Receive layout (measured by bench/tap_rx_layout_bench, which keeps the numbers): each read
// goes into three buffers,
//   [virtio-net header, if the fd has one] [an mbuf of the switch's pool] [an mbuf of the port's
//   pool of 64 KB buffers]
// so a frame of up to the first mbuf's room costs one ordinary mbuf, and a GSO or jumbo frame
// of up to 64 KB becomes a chain of two. This beat a chain of up to 32 ordinary mbufs: 18%
// cheaper per 60-byte frame (3 iovecs instead of 34) and 40% per 64 KB frame.
//
// Nothing here allocates except from mempools, and nothing throws.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "base/counter.h"
#include "ports/vnet_hdr.h"

struct rte_mbuf;
struct rte_mempool;

namespace tapswitch {

// Room for the largest virtio-net header an adopted fd may use (tun allows any size); only the
// first 10 bytes carry meaning, the rest is zero on write and ignored on read.
constexpr unsigned kMaxVnetHdrLen = 64;
struct VnetHdrBuf {
  VnetHdr hdr;
  uint8_t pad[kMaxVnetHdrLen - sizeof(VnetHdr)] = {};
};

// The buffers of one read in flight.
struct RxSlot {
  VnetHdrBuf hdr;
  rte_mbuf* head = nullptr;  // from the switch's pool
  rte_mbuf* big = nullptr;   // from the port's big pool
  iovec iov[3];
  unsigned iovcnt = 0;
};

struct TapRxCounters {
  Counter packets, bytes, nombuf, oversize, errors;
  Counter last_error;  // errno of the latest failed read, for `show ports`
};

// The receive side's buffers and rules. One per port; used by the port's rx thread only.
class TapRxFrames {
 public:
  TapRxFrames(rte_mempool* pool, rte_mempool* big_pool, uint8_t vnet_hdr_len, TapRxCounters& counters);

  // Gives the slot its buffers (keeping those it has) and fills its iovecs. False if a pool is
  // empty (counted in nombuf); the slot then keeps what it got.
  bool arm(RxSlot& s) noexcept;
  // Makes a frame of a read that returned `r` bytes (header included): the slot's buffers pass
  // into the returned mbuf, which the caller owns. Returns nullptr when the frame is dropped
  // (longer than the MTU allows, or a bad header: counted); arm() the slot again either way.
  rte_mbuf* complete(RxSlot& s, size_t r, uint32_t mtu) noexcept;
  void count_error(int err) noexcept {
    c_.errors.add();
    c_.last_error.set(static_cast<uint64_t>(err));
  }
  // Returns the slot's buffers to their pools.
  static void release(RxSlot& s) noexcept;

  uint32_t head_room() const noexcept { return head_room_; }

 private:
  rte_mempool* pool_;
  rte_mempool* big_pool_;
  uint8_t hdr_len_;
  uint32_t head_room_ = 0;
  TapRxCounters& c_;
};

// The iovecs to write mbuf `m` with: its header, built into `hdr`, if hdr_len, then each
// segment. Returns their count, or 0 if the chain has kMaxTxIov segments or more.
constexpr unsigned kMaxTxIov = 64;
unsigned tx_iov(const rte_mbuf* m, VnetHdrBuf& hdr, uint8_t hdr_len, iovec* iov) noexcept;

}  // namespace tapswitch
