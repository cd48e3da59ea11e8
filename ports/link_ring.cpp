#include "ports/link_ring.h"

#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "ports/link_socket.h"

namespace tapswitch {

namespace {

// 4096 slots of 2 KB (8 MB, what the socket's buffer was): a full-sized frame with its headers
// fits a slot; longer ones take the socket's queue.
constexpr unsigned kSlotSize = 2048;
constexpr unsigned kSlots = 4096;
constexpr unsigned kBlockSize = 64 * 1024;

}  // namespace

std::unique_ptr<LinkRxRing> LinkRxRing::create(const std::string& spec, int fd) {
  set_packet_opt(spec, fd, PACKET_VERSION, TPACKET_V2, "TPACKET_V2");
  set_packet_opt(spec, fd, PACKET_COPY_THRESH, 1, "PACKET_COPY_THRESH");
  tpacket_req req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kSlots * kSlotSize / kBlockSize;
  req.tp_frame_size = kSlotSize;
  req.tp_frame_nr = kSlots;
  // The socket is bound already: setting the ring empties its queue (checked on this kernel), so
  // no frame that arrived before can be taken for the next slot's TP_STATUS_COPY frame.
  set_packet_opt(spec, fd, PACKET_RX_RING, &req, sizeof req, "a receive ring (PACKET_RX_RING)");
  std::unique_ptr<LinkRxRing> r(new LinkRxRing(fd));
  r->map_len_ = size_t{kSlots} * kSlotSize;
  void* m = ::mmap(nullptr, r->map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) fail("port '{}': cannot map the packet socket's receive ring: {}", spec, std::strerror(errno));
  r->map_ = static_cast<uint8_t*>(m);
  return r;
}

LinkRxRing::~LinkRxRing() {
  if (map_) ::munmap(map_, map_len_);
}

ssize_t LinkRxRing::recv(uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci) noexcept {
  for (;;) {
    auto* h = reinterpret_cast<tpacket2_hdr*>(map_ + size_t{head_} * kSlotSize);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) {
      errno = EAGAIN;
      return -1;
    }
    const auto* from = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<uint8_t*>(h) + TPACKET_ALIGN(sizeof *h));
    bool outgoing = from->sll_pkttype == PACKET_OUTGOING;  // what the host sent out: not the port's
    ssize_t r;
    if (status & TP_STATUS_COPY) {  // the whole frame waits in the socket's queue, next in line
      r = recv_link_one(fd_, buf, len, tpid, tci, outgoing);
      if (r <= 0) r = static_cast<ssize_t>(len) + 1;  // (it cannot be missing): counted, not forwarded
    } else {
      const uint8_t* start = reinterpret_cast<uint8_t*>(h) + h->tp_mac - kPacketVnetHdrLen;
      std::memcpy(buf, start, std::min(h->tp_snaplen + size_t{kPacketVnetHdrLen}, len));
      // A frame cut short (too long for a slot, and no room left in the socket's queue) is
      // reported too long, as recvmsg() with MSG_TRUNC would.
      r = h->tp_snaplen < h->tp_len ? static_cast<ssize_t>(len) + 1
                                    : static_cast<ssize_t>(h->tp_len + kPacketVnetHdrLen);
      kept_vlan(status, h->tp_vlan_tci, h->tp_vlan_tpid, tpid, tci);
    }
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    head_ = head_ + 1 == kSlots ? 0 : head_ + 1;
    if (!outgoing) return r;
  }
}

}  // namespace tapswitch
