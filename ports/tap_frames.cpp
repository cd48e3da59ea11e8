#include "ports/tap_frames.h"

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ports/port.h"

namespace tapswitch {

namespace {
bool is_tagged(const rte_mbuf* m) noexcept {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  if (m->data_len < kEthHdrLen) return false;
  const uint16_t et = static_cast<uint16_t>((p[12] << 8) | p[13]);
  return et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ;
}
}  // namespace

TapRxFrames::TapRxFrames(rte_mempool* pool, rte_mempool* big_pool, uint8_t vnet_hdr_len,
                         TapRxCounters& counters)
    : pool_(pool), big_pool_(big_pool), hdr_len_(vnet_hdr_len), c_(counters) {
  head_room_ = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
  max_rx_frame_ = rte_pktmbuf_data_room_size(big_pool) - RTE_PKTMBUF_HEADROOM - 1;
}

bool TapRxFrames::arm(RxSlot& s) noexcept {
  if ((!s.head && !(s.head = rte_pktmbuf_alloc(pool_))) || (!s.big && !(s.big = rte_pktmbuf_alloc(big_pool_)))) {
    if (!paused_) c_.paused.add();  // once per stop, not once per poll while it lasts
    paused_ = true;
    return false;
  }
  paused_ = false;
  s.big->data_off = RTE_PKTMBUF_HEADROOM;  // (insert_vlan() may have moved it)
  return true;
}

rte_mbuf* TapRxFrames::complete(RxSlot& s, size_t r, uint32_t mtu) noexcept {
  if (unlikely(r <= hdr_len_)) {
    count_error(EPROTO);  // shorter than its virtio-net header
    return nullptr;
  }
  if (unlikely(r >= read_len())) {
    c_.oversize.add();  // it filled the buffer, so it may have been cut short; the slot keeps its buffers
    return nullptr;
  }
  const uint32_t len = static_cast<uint32_t>(r - hdr_len_);
  const uint8_t* at = read_at(s);
  const uint8_t* frame = at + hdr_len_;
  rte_mbuf* m;
  if (likely(len <= head_room_)) {
    m = s.head;
    s.head = nullptr;
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame, len);
  } else {
    m = s.big;
    s.big = nullptr;
  }
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  if (hdr_len_) {
    VnetHdr h{};  // the header may sit unaligned (an adopted fd's may have any length)
    std::memcpy(&h, at, std::min<size_t>(sizeof h, hdr_len_));
    if (unlikely(!vnet_hdr_to_mbuf(h, m))) {
      count_error(EBADMSG);  // a virtio-net header that does not fit the frame
      rte_pktmbuf_free(m);
      return nullptr;
    }
  }
  // A GSO frame is judged where it leaves, by the frames it is cut into.
  if (unlikely(len > max_frame_len(mtu, false)) &&
      !(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) &&
      (len > max_frame_len(mtu, true) || !is_tagged(m))) {
    c_.oversize.add();
    rte_pktmbuf_free(m);
    return nullptr;
  }
  return m;
}

size_t TapRxFrames::insert_vlan(RxSlot& s, size_t r, uint16_t tpid, uint16_t tci) noexcept {
  constexpr unsigned kMacs = 12, kTag = 4;
  if (r >= read_len() || r < hdr_len_ + kMacs + 2u) return r;
  uint8_t* at = read_at(s);
  std::memmove(at - kTag, at, hdr_len_ + kMacs);
  s.big->data_off = static_cast<uint16_t>(s.big->data_off - kTag);
  uint8_t* tag = at - kTag + hdr_len_ + kMacs;
  tag[0] = static_cast<uint8_t>(tpid >> 8);
  tag[1] = static_cast<uint8_t>(tpid);
  tag[2] = static_cast<uint8_t>(tci >> 8);
  tag[3] = static_cast<uint8_t>(tci);
  if (hdr_len_) {
    VnetHdr h{};
    const size_t n = std::min<size_t>(sizeof h, hdr_len_);
    std::memcpy(&h, at - kTag, n);
    if (h.flags & kVnetFNeedsCsum) {
      h.csum_start = static_cast<uint16_t>(h.csum_start + kTag);
      if (h.hdr_len) h.hdr_len = static_cast<uint16_t>(h.hdr_len + kTag);
      std::memcpy(at - kTag, &h, n);
    }
  }
  return r + kTag;
}

void TapRxFrames::release(RxSlot& s) noexcept {
  if (s.head) rte_pktmbuf_free(s.head);
  if (s.big) rte_pktmbuf_free(s.big);
  s.head = s.big = nullptr;
}

uint8_t* header_in_headroom(rte_mbuf* m, uint8_t hdr_len) noexcept {
  if (m->nb_segs != 1 || !RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 || rte_pktmbuf_headroom(m) < hdr_len)
    return nullptr;
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*) - hdr_len;
  if (hdr_len) {  // an adopted fd may have a longer header than VnetHdr: the rest is zero
    const VnetHdr h = mbuf_to_vnet_hdr(m);
    std::memcpy(p, &h, std::min<size_t>(sizeof h, hdr_len));
    if (hdr_len > sizeof h) std::memset(p + sizeof h, 0, hdr_len - sizeof h);
  }
  return p;
}

unsigned tx_iov(const rte_mbuf* m, VnetHdrBuf& hdr, uint8_t hdr_len, iovec* iov) noexcept {
  unsigned k = 0;
  if (hdr_len) {
    hdr.hdr = mbuf_to_vnet_hdr(m);
    iov[k++] = {&hdr, hdr_len};
  }
  for (const rte_mbuf* s = m; s; s = s->next) {
    if (unlikely(k == kMaxTxIov)) return 0;
    iov[k++] = {rte_pktmbuf_mtod(s, void*), s->data_len};
  }
  return k;
}

}  // namespace tapswitch
