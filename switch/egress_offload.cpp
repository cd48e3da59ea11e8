#include "switch/egress_offload.h"

#include <rte_ether.h>
#include <rte_lcore.h>

#include <algorithm>
#include <string>

#include "base/error.h"
#include "switch/soft_offload.h"

namespace tapswitch {

namespace {

constexpr uint64_t kSegFlags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;
// Indirect mbufs in flight at once: a few segmented frames on their way out.
constexpr unsigned kIndirectMbufs = 4 * EgressOffload::kMaxSegments;

bool is_tagged(const rte_mbuf* m) noexcept {
  if (m->data_len < kEthHdrLen) return false;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint16_t et = static_cast<uint16_t>((p[12] << 8) | p[13]);
  return et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ;
}

}  // namespace

EgressOffload::EgressOffload(Counter& copies, rte_mempool* frames)
    : copies_(copies), frames_(frames), indirect_("gso-ind", kIndirectMbufs, 0, 64) {}

EgressRules EgressOffload::rules(const TxOffloads& o) noexcept {
  EgressRules r;
  // GSO frames are always looked at: their segments must fit the MTU.
  r.check_flags = kSegFlags | (o.l4_csum ? 0 : RTE_MBUF_F_TX_L4_MASK);
  r.check_segs = !o.multi_seg;
  return r;
}

unsigned EgressOffload::drop(rte_mbuf* m, DropReason r, SwitchPortCounters& c) noexcept {
  c.drop(r);
  rte_pktmbuf_free(m);
  return 0;
}

unsigned EgressOffload::pass(rte_mbuf* m, const TxOffloads& o, rte_mbuf** out, SwitchPortCounters& c) noexcept {
  if (unlikely(!o.multi_seg && m->nb_segs > 1)) {
    // A port that takes only single buffers cannot send a frame longer than one of ours holds.
    if (m->pkt_len > static_cast<uint32_t>(rte_pktmbuf_data_room_size(frames_) - RTE_PKTMBUF_HEADROOM))
      return drop(m, DropReason::oversize, c);
    rte_mbuf* lin = soft_linearize(m, frames_);
    if (!lin) return drop(m, DropReason::no_mbuf, c);
    copies_.add();
    rte_pktmbuf_free(m);
    m = lin;
  }
  out[0] = m;
  return 1;
}

unsigned EgressOffload::complete_checksum(rte_mbuf* m, const TxOffloads& o, rte_mbuf** out,
                                          SwitchPortCounters& c) noexcept {
  if (!first_segment_private(m)) {  // shared with another egress: change a copy
    rte_mbuf* copy = rte_pktmbuf_copy(m, frames_, 0, UINT32_MAX);
    if (!copy) return drop(m, DropReason::no_mbuf, c);
    copies_.add();
    copy->ol_flags = m->ol_flags;
    copy->tx_offload = m->tx_offload;
    rte_pktmbuf_free(m);
    m = copy;
  }
  if (!soft_l4_checksum(m)) return drop(m, DropReason::bad_offload, c);
  return pass(m, o, out, c);
}

unsigned EgressOffload::prepare(rte_mbuf* m, const TxOffloads& o, uint32_t mtu, rte_mbuf** out,
                                unsigned cap, SwitchPortCounters& c) noexcept {
  const uint64_t ol = m->ol_flags;
  if (ol & kSegFlags) {
    const bool tcp = ol & RTE_MBUF_F_TX_TCP_SEG;
    const uint32_t hdrs = m->l2_len + m->l3_len + m->l4_len;
    const uint32_t seg_frame = hdrs + m->tso_segsz;
    const uint32_t mtu_limit = std::min<uint32_t>(max_frame_len(mtu, m->l2_len > RTE_ETHER_HDR_LEN), UINT16_MAX);
    const bool port_can = tcp ? ((ol & RTE_MBUF_F_TX_IPV6) ? o.tso6 : o.tso4) : o.uso;
    // A port without multi-segment transmit takes no chain longer than one of our mbufs holds
    // (pass() drops it): such a frame is cut, and what is cut for that port is cut to fit one.
    const uint32_t room = rte_pktmbuf_data_room_size(frames_) - RTE_PKTMBUF_HEADROOM;
    const bool sendable = o.multi_seg || m->nb_segs == 1 || m->pkt_len <= room;
    const uint32_t limit = o.multi_seg ? mtu_limit : std::min(mtu_limit, room);
    if (port_can && seg_frame <= mtu_limit && sendable) return pass(m, o, out, c);
    if (m->pkt_len <= mtu_limit && m->pkt_len <= seg_frame && sendable) return complete_checksum(m, o, out, c);
    // Headers that fill a frame of the MTU leave no room for payload: it cannot be cut to fit.
    if (hdrs >= limit) return drop(m, DropReason::oversize, c);
    if (!tcp && seg_frame > limit) return drop(m, DropReason::oversize, c);
    unsigned k = 0;
    bool copied = false;
    switch (soft_segment(m, std::min(seg_frame, limit), frames_, indirect_.get(), out, cap, &k, &copied)) {
      case SegmentResult::ok: break;
      case SegmentResult::no_mbuf: return drop(m, DropReason::no_mbuf, c);
      case SegmentResult::too_many: return drop(m, DropReason::oversize, c);
      case SegmentResult::bad: return drop(m, DropReason::bad_offload, c);
    }
    rte_pktmbuf_free(m);
    if (copied) copies_.add(k);
    if (unlikely(!o.multi_seg)) {
      // Every segment fits one mbuf; librte_gso's are chains (headers, then the payload by
      // reference): copied into one. If a copy fails the whole frame is dropped, counted once.
      for (unsigned i = 0; i < k; ++i) {
        if (out[i]->nb_segs == 1) continue;
        rte_mbuf* lin = soft_linearize(out[i], frames_);
        if (!lin) {
          rte_pktmbuf_free_bulk(out, k);
          c.drop(DropReason::no_mbuf);
          return 0;
        }
        copies_.add();
        rte_pktmbuf_free(out[i]);
        out[i] = lin;
      }
    }
    return k;
  }
  if (m->pkt_len > max_frame_len(mtu, false) && (m->pkt_len > max_frame_len(mtu, true) || !is_tagged(m)))
    return drop(m, DropReason::oversize, c);
  if ((ol & RTE_MBUF_F_TX_L4_MASK) && !o.l4_csum) return complete_checksum(m, o, out, c);
  return pass(m, o, out, c);
}

}  // namespace tapswitch
