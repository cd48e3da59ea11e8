// LinkRxRing: a link: port's packet socket with a receive ring (TPACKET_V2, PACKET_RX_RING)
// mapped into the switch. The kernel copies each frame it hands the socket, with its
// virtio-net header, into the ring's next free 2 KB slot, in the sender's context; the port
// takes it from there without a system call, without the socket's queue lock and without an
// skb to free. A frame longer than a slot (a GSO packet, a jumbo frame) is also queued whole on
// the socket (PACKET_COPY_THRESH; its slot says TP_STATUS_COPY) and read from there with one
// recvmsg(), in order: large frames cost what they cost without the ring, and the sender does
// not copy 64 KB twice.
//
// recv() has recv_link_frame()'s contract (ports/link_socket.h), so the port reads a ring the
// way it reads a socket: a frame that could not be kept whole returns a length above `len`,
// and is counted oversize by the caller. Frames the host sent out of the interface are skipped.
// The socket's fd polls readable while a slot waits.
//
// Concurrency: one reader thread (the queue's rx thread); the control thread creates and
// destroys it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tapswitch {

class LinkRxRing {
 public:
  // Sets up and maps the ring on packet socket `fd` (PACKET_VNET_HDR already set, no ring
  // yet). Throws Error naming the spec.
  static std::unique_ptr<LinkRxRing> create(const std::string& spec, int fd);
  ~LinkRxRing();
  LinkRxRing(const LinkRxRing&) = delete;
  LinkRxRing& operator=(const LinkRxRing&) = delete;

  ssize_t recv(uint8_t* buf, size_t len, uint16_t& tpid, uint16_t& tci) noexcept;

 private:
  explicit LinkRxRing(int fd) : fd_(fd) {}
  int fd_;
  uint8_t* map_ = nullptr;
  size_t map_len_ = 0;
  unsigned head_ = 0;
};

}  // namespace tapswitch
