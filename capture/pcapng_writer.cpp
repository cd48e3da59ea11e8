#include "capture/pcapng_writer.h"

#include <unistd.h>

#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace tapswitch {

namespace {
constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kEpb = 6;
constexpr uint16_t kOptEnd = 0, kShbUserAppl = 4, kIfName = 2, kIfTsResol = 9, kEpbFlags = 2;
constexpr uint16_t kLinkEthernet = 1;
constexpr size_t kFlushAt = 256 * 1024;
constexpr size_t kMaxBuffered = 4 * 1024 * 1024;  // a slow pipe reader loses frames beyond this
}  // namespace

void PcapngWriter::put32(uint32_t v) { put_bytes(&v, 4); }
void PcapngWriter::put16(uint16_t v) { put_bytes(&v, 2); }
void PcapngWriter::put_bytes(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  buf_.insert(buf_.end(), b, b + n);
}
void PcapngWriter::pad4() {
  while (buf_.size() % 4) buf_.push_back(0);
}
void PcapngWriter::option(uint16_t code, const void* p, uint16_t len) {
  put16(code);
  put16(len);
  put_bytes(p, len);
  pad4();
}

PcapngWriter::PcapngWriter(int fd, const std::string& ifname, uint32_t snaplen) : fd_(fd), snaplen_(snaplen) {
  // Section Header Block; the block length is patched once the options are in.
  size_t start = buf_.size();
  put32(kShb);
  put32(0);
  put32(0x1A2B3C4D);  // byte-order magic
  put16(1);           // version 1.0
  put16(0);
  put32(0xFFFFFFFF);  // section length: unknown
  put32(0xFFFFFFFF);
  const std::string app = "tapswitch";
  option(kShbUserAppl, app.data(), static_cast<uint16_t>(app.size()));
  option(kOptEnd, nullptr, 0);
  uint32_t len = static_cast<uint32_t>(buf_.size() - start + 4);
  put32(len);
  std::memcpy(&buf_[start + 4], &len, 4);

  // Interface Description Block.
  start = buf_.size();
  put32(kIdb);
  put32(0);
  put16(kLinkEthernet);
  put16(0);
  put32(snaplen_);
  option(kIfName, ifname.data(), static_cast<uint16_t>(ifname.size()));
  const uint8_t resol = 9;
  option(kIfTsResol, &resol, 1);
  option(kOptEnd, nullptr, 0);
  len = static_cast<uint32_t>(buf_.size() - start + 4);
  put32(len);
  std::memcpy(&buf_[start + 4], &len, 4);
  if (!flush()) fail("cannot write the capture file: {}", std::strerror(errno));
}

bool PcapngWriter::write(const rte_mbuf* m, uint64_t ts_ns, CaptureDir dir, uint32_t orig_len) {
  if (buf_.size() > kMaxBuffered) return false;
  const uint32_t orig = orig_len ? orig_len : m->pkt_len;
  const uint32_t cap = std::min({orig, m->pkt_len, snaplen_});
  const size_t start = buf_.size();
  put32(kEpb);
  put32(0);
  put32(0);  // interface 0
  put32(static_cast<uint32_t>(ts_ns >> 32));
  put32(static_cast<uint32_t>(ts_ns));
  put32(cap);
  put32(orig);
  const size_t at = buf_.size();
  buf_.resize(at + cap);
  const void* data = rte_pktmbuf_read(m, 0, cap, &buf_[at]);
  if (data != &buf_[at]) std::memcpy(&buf_[at], data, cap);
  pad4();
  const uint32_t flags = static_cast<uint32_t>(dir);
  option(kEpbFlags, &flags, 4);
  option(kOptEnd, nullptr, 0);
  const uint32_t len = static_cast<uint32_t>(buf_.size() - start + 4);
  put32(len);
  std::memcpy(&buf_[start + 4], &len, 4);
  if (buf_.size() >= kFlushAt) flush();
  return true;
}

bool PcapngWriter::flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int err = n < 0 ? errno : EIO;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(off));
    errno = err;
    return err == EAGAIN;  // a full pipe keeps the rest for later
  }
  buf_.clear();
  return true;
}

}  // namespace tapswitch
