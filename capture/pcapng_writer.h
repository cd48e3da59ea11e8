// PcapngWriter: writes a pcapng stream (one section, one Ethernet interface) to a file
// descriptor, for `tapswitchctl capture`.
//
// Why not librte_pcapng: in DPDK 22.11 rte_pcapng_fdopen() describes only ethdev ports, and a
// raw-fd tap port is not one (rte_pcapng_add_interface arrived in 23.03). libpcap can only
// write classic pcap. The format is small: a Section Header Block, an Interface Description
// Block naming the port, then an Enhanced Packet Block per frame with its direction
// (epb_flags). Timestamps are nanoseconds (if_tsresol = 9).
//
// Concurrency: one thread (the control thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct rte_mbuf;

namespace tapswitch {

enum class CaptureDir : uint8_t { rx = 1, tx = 2 };  // epb_flags direction: 1 inbound, 2 outbound

class PcapngWriter {
 public:
  // Writes the section and interface headers. Throws Error if the fd cannot be written.
  PcapngWriter(int fd, const std::string& ifname, uint32_t snaplen);

  // Appends one frame (up to snaplen bytes of it) whose length on the wire was `orig_len` (m may
  // hold only the bytes captured; 0: m's own length). Returns false, writing nothing, when too
  // much is already waiting for a slow reader.
  bool write(const rte_mbuf* m, uint64_t ts_ns, CaptureDir dir, uint32_t orig_len = 0);
  // Writes what is buffered; a full pipe keeps the rest for later. Returns false (errno set)
  // on a real write error.
  bool flush();

 private:
  void put32(uint32_t v);
  void put16(uint16_t v);
  void put_bytes(const void* p, size_t n);
  void pad4();
  void option(uint16_t code, const void* p, uint16_t len);

  int fd_;
  uint32_t snaplen_;
  std::vector<uint8_t> buf_;
};

}  // namespace tapswitch
