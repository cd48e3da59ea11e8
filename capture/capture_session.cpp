#include "capture/capture_session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace tapswitch {

namespace {
constexpr unsigned kCopies = 4096;     // frames in flight between workers and the file
constexpr unsigned kDrainBurst = 256;

uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Makes fd non-blocking and, once the session's pool and ring exist (so the capture is
// accepted), cuts a regular file at its offset: the client opened it without O_TRUNC.
int prepare(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) fail("capture file: {}", std::strerror(errno));
  struct stat st;
  if (!(fl & O_APPEND) && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    const off_t at = ::lseek(fd, 0, SEEK_CUR);
    if (at < 0 || ::ftruncate(fd, at) != 0) fail("capture file: {}", std::strerror(errno));
  }
  return fd;
}
}  // namespace

CaptureSession::CaptureSession(uint64_t id, const CaptureOptions& opt, UniqueFd fd, uint64_t owner)
    : id_(id),
      opt_(opt),
      owner_(owner),
      fd_(std::move(fd)),
      pool_("cap", kCopies, RTE_MBUF_DEFAULT_BUF_SIZE),
      ring_("cap", kCopies, RING_F_SC_DEQ, sizeof(Record)),
      writer_(prepare(fd_.get()), opt.port, opt.snaplen),
      base_ns_(realtime_ns()),
      base_tsc_(rte_rdtsc()),
      hz_(rte_get_tsc_hz()) {}

CaptureSession::~CaptureSession() {
  Record r[kDrainBurst];
  unsigned n;
  while ((n = rte_ring_dequeue_burst_elem(ring_.get(), r, sizeof(Record), kDrainBurst, nullptr)) != 0)
    for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(r[i].m);
  writer_.flush();
}

void CaptureSession::offer(rte_mbuf* const* pkts, uint16_t n, CaptureDir dir) noexcept {
  Record r[64];
  unsigned k = 0;
  const uint64_t now = rte_rdtsc();
  uint64_t lost = 0;
  for (uint16_t i = 0; i < n && k < 64; ++i) {
    rte_mbuf* c = rte_pktmbuf_copy(pkts[i], pool_.get(), 0, opt_.snaplen);
    if (!c) {
      ++lost;
      continue;
    }
    r[k++] = Record{c, now, static_cast<uint16_t>(dir), 0, pkts[i]->pkt_len};
  }
  unsigned q = rte_ring_mp_enqueue_burst_elem(ring_.get(), r, sizeof(Record), k, nullptr);
  for (unsigned i = q; i < k; ++i) rte_pktmbuf_free(r[i].m);
  lost += k - q;
  if (lost) dropped_.fetch_add(lost, std::memory_order_relaxed);
}

bool CaptureSession::drain() {
  Record r[kDrainBurst];
  unsigned n;
  while (!done_ && (n = rte_ring_sc_dequeue_burst_elem(ring_.get(), r, sizeof(Record), kDrainBurst, nullptr)) != 0) {
    for (unsigned i = 0; i < n; ++i) {
      if (!done_) {
        const uint64_t ns = base_ns_ + static_cast<uint64_t>((r[i].tsc - base_tsc_) * 1e9 / static_cast<double>(hz_));
        if (writer_.write(r[i].m, ns, static_cast<CaptureDir>(r[i].dir), r[i].orig_len))
          ++written_;
        else
          dropped_.fetch_add(1, std::memory_order_relaxed);  // the reader of a pipe is slow
        if (opt_.count && written_ >= opt_.count) done_ = true;
      }
      rte_pktmbuf_free(r[i].m);
    }
  }
  if (!writer_.flush() && error_.empty()) {
    done_ = true;
    error_ = std::strerror(errno);
  }
  return !done_;
}

CaptureStatus CaptureSession::status() const {
  return {id_, opt_.port, written_, dropped_.load(std::memory_order_relaxed), done_, error_};
}

}  // namespace tapswitch
