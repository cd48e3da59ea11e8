// CaptureSession: frames of one port, copied by the workers and written to a pcapng file by the
// control thread.
//
// Workers call offer() for a port being captured: each frame is copied (rte_pktmbuf_copy, up
// to the snap length) into the session's own mbuf pool and queued with its TSC time on a
// multi-producer ring. The switch's own frames are never held back: when the pool or the ring
// is full, the copy is skipped and counted as dropped. While no capture runs, the data path
// pays one relaxed load per burst and port (switch/capture_table.h).
//
// Concurrency contract:
//  - offer(): any worker, concurrently.
//  - everything else: the control thread. The session may be freed only after it was taken out
//    of the capture table and every worker passed a housekeeping point (Switch::sync_workers).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "capture/pcapng_writer.h"
#include "dpdk/pkt_pool.h"
#include "dpdk/ring.h"

struct rte_mbuf;

namespace tapswitch {

struct CaptureOptions {
  std::string port;
  bool rx = true, tx = true;
  uint64_t count = 0;       // stop after this many frames; 0: until stopped
  uint32_t snaplen = 65535;
};

struct CaptureStatus {
  uint64_t id = 0;
  std::string port;
  uint64_t written = 0;   // frames in the file
  uint64_t dropped = 0;   // frames not captured: copy pool or ring full, or the file was slow
  bool done = false;      // count reached, or the file failed
  std::string error;      // why the file failed, if it did
};

class CaptureSession {
 public:
  // Takes ownership of fd (made non-blocking; a regular file is cut at its offset once the
  // session's pool and ring exist). Throws Error if those cannot be made or the file written.
  CaptureSession(uint64_t id, const CaptureOptions& opt, UniqueFd fd, uint64_t owner);
  ~CaptureSession();

  void offer(rte_mbuf* const* pkts, uint16_t n, CaptureDir dir) noexcept;

  // Writes what the workers queued. Returns false once the session is done.
  bool drain();
  CaptureStatus status() const;
  const CaptureOptions& options() const noexcept { return opt_; }
  uint64_t owner() const noexcept { return owner_; }

 private:
  struct Record {
    rte_mbuf* m;
    uint64_t tsc;
    uint16_t dir;
    uint16_t pad;
    uint32_t orig_len;  // the frame's length; m holds at most snaplen bytes of it
  };
  static_assert(sizeof(Record) == 24);

  uint64_t id_;
  CaptureOptions opt_;
  uint64_t owner_;
  UniqueFd fd_;
  PktPool pool_;
  Ring ring_;
  PcapngWriter writer_;
  uint64_t written_ = 0;
  bool done_ = false;
  std::string error_;
  uint64_t base_ns_, base_tsc_, hz_;
  alignas(64) std::atomic<uint64_t> dropped_{0};
};

}  // namespace tapswitch
