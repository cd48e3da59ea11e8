// A randomized robustness test of the offload path: frames with offload metadata from a tap's
// virtio-net header (vnet_hdr_to_mbuf) or from a guest's receive flags (rx_offloads_to_mbuf),
// built valid (TCP/UDP over IPv4/IPv6, VLAN tags, IPv4 options, IPv6 extension headers, 0 to
// 64 KB, single and chained mbufs) and then, for most cases, corrupted, then made to fit an
// egress port by EgressOffload::prepare (several offload sets and MTUs, private and shared
// frames), and the virtio-net header mbuf_to_vnet_hdr builds for each frame that comes out.
//
// Invariants, for every case: prepare returns 0 with exactly one drop counted, or k frames
// (k <= kMaxSegments, no drop counted) that the port can send: within the MTU (ports/port.h), no
// offload the port cannot do, single buffers for a port without multi-segment transmit, a
// consistent mbuf chain; a guest's frame rx_offloads_to_mbuf() accepts with a partial
// checksum or LRO is described by tapswitch's offload flags; every reference is given back (the pools' use returns to where it
// was); a shared frame (flooded) is not changed; the header built for an output never points
// outside it. For cases that were never corrupted, also: the mapping accepts the frame (where
// the headers' contract says it must), the drop reason is not bad_offload, and the frames that
// come out carry correct IPv4 header and L4 checksums (or a partial checksum a device can
// complete), correct lengths and sequence numbers, and their payloads, in order, are the input's.
//
// Two of the tests also leave the pools prepare() allocates from nearly empty (0 to 80 mbufs free),
// for every error path of copies and segmentation: no_mbuf drops, and still no leak.
//
// Deterministic: case i of a test runs from its own fixed seed. OFFLOAD_FUZZ_CASES=n runs n
// cases per test instead, OFFLOAD_FUZZ_SEED=s another series.
//
// The regression cases it found are in offload_regression_test.cpp; the frames it builds and
// checks come from offload_fuzz_frames.h.
#include "tests/unit/offload_fuzz_frames.h"

namespace tapswitch::test {
namespace {

// ---- The cases ------------------------------------------------------------------------------

enum class Source { vnet, rx };

struct Egress {
  const char* name;
  TxOffloads o;
};
const Egress kEgress[] = {
    {"none", {false, false, false, false, true}},
    {"csum", {true, false, false, false, true}},
    {"tso", {true, true, true, false, true}},
    {"tso+uso", {true, true, true, true, true}},
    {"none,single", {false, false, false, false, false}},
    {"csum,single", {true, false, false, false, false}},
    {"tso,single", {true, true, true, true, false}},
};

struct Case {
  Source src = Source::vnet;
  Shape shape;
  bool valid = true;  // never corrupted
  std::string corruption;
  Bytes bytes;
  std::vector<uint32_t> segs;
  VnetHdr h;
  uint64_t rx_flags = 0;
  uint16_t rx_segsz = 0;
  uint64_t rx_tx_offload = 0;
  bool gso = false;
};

std::string describe(const Case& c) {
  std::ostringstream o;
  const Shape& s = c.shape;
  o << (c.src == Source::vnet ? "vnet" : "rx") << (c.valid ? " valid" : " corrupt[" + c.corruption + "]")
    << (s.v6 ? " v6" : " v4") << (s.udp ? " udp" : " tcp") << " tags=" << s.tags << " ipopts=" << s.ip_opts
    << " ext=" << s.ext_len() << " tcpopts=" << s.tcp_opts << " payload=" << s.payload << " len=" << c.bytes.size()
    << " segs=[";
  for (size_t i = 0; i < c.segs.size() && i < 8; ++i) o << (i ? "," : "") << c.segs[i];
  if (c.segs.size() > 8) o << ",..(" << c.segs.size() << ")";
  o << "]";
  if (c.src == Source::vnet) {
    o << " hdr{flags=" << unsigned{c.h.flags} << " gso_type=" << unsigned{c.h.gso_type} << " hdr_len=" << c.h.hdr_len
      << " gso_size=" << c.h.gso_size << " csum_start=" << c.h.csum_start << " csum_offset=" << c.h.csum_offset << "}";
  } else {
    o << " rx{ol_flags=0x" << std::hex << c.rx_flags << std::dec << " tso_segsz=" << c.rx_segsz << "}";
  }
  return o.str();
}

void corrupt_bytes(Rng& r, Case& c) {
  Bytes& b = c.bytes;
  const Shape& s = c.shape;
  const unsigned n = r.in(1, 3);
  for (unsigned k = 0; k < n; ++k) {
    const unsigned what = r.in(0, 8);
    const size_t l2 = s.l2(), t = s.l2() + s.l3();
    if (b.size() < s.hdrs() && what != 0 && what != 7) continue;  // after a truncation
    switch (what) {
      case 0: {  // random bytes in the headers
        const unsigned m = r.in(1, 4);
        for (unsigned i = 0; i < m && !b.empty(); ++i)
          b[r.in(0, std::min<uint32_t>(static_cast<uint32_t>(b.size()), s.hdrs() + 8) - 1)] = static_cast<uint8_t>(r.g());
        c.corruption += "bytes,";
        break;
      }
      case 1:  // a lying IHL
        if (!s.v6) b[l2] = static_cast<uint8_t>(0x40 | r.in(0, 15));
        c.corruption += "ihl,";
        break;
      case 2:  // a lying IP length
        if (s.v6) put16(b, l2 + 4, r.pct(50) ? r.in(0, 65535) : get16(b, l2 + 4) + r.in(0, 8) - 4);
        else put16(b, l2 + 2, r.pct(50) ? r.in(0, 65535) : get16(b, l2 + 2) + r.in(0, 8) - 4);
        c.corruption += "iplen,";
        break;
      case 3:  // a lying L4 length
        if (s.udp) put16(b, t + 4, r.in(0, 65535));
        else b[t + 12] = static_cast<uint8_t>(r.in(0, 15) << 4);
        c.corruption += "l4len,";
        break;
      case 4: {  // truncated
        const uint32_t len = static_cast<uint32_t>(b.size());
        b.resize(r.pct(60) ? r.in(0, std::min(len, s.hdrs() + 16)) : r.in(0, len));
        c.corruption += "trunc,";
        return;  // offsets beyond here are gone
      }
      case 5:  // another EtherType / tag
        put16(b, 12, r.pick<uint32_t>({0x8100, 0x88a8, 0x0800, 0x86dd, 0x0806, r.in(0, 65535)}));
        c.corruption += "ethertype,";
        break;
      case 6:  // another protocol
        if (s.v6) b[l2 + 6] = r.pick<uint8_t>({6, 17, 0, 60, 43, 44, 58, static_cast<uint8_t>(r.g())});
        else b[l2 + 9] = r.pick<uint8_t>({6, 17, 1, 47, static_cast<uint8_t>(r.g())});
        c.corruption += "proto,";
        break;
      case 7:  // trailing bytes beyond the IP packet
        b.resize(b.size() + r.in(1, 64), 0xee);
        c.corruption += "trailer,";
        break;
      default:  // IPv4 fragment
        if (!s.v6) put16(b, l2 + 6, r.pick<uint32_t>({0x2000, 0x0001, 0x3fff}));
        c.corruption += "frag,";
        break;
    }
  }
}

uint16_t wild16(Rng& r, uint32_t near) {
  return static_cast<uint16_t>(r.pick<uint32_t>({0, 1, 2, 65535, 65534, near, near + 1, near - 1, r.in(0, 65535),
                                                 r.in(0, 200), near + r.in(0, 64)}));
}

void corrupt_vnet(Rng& r, Case& c) {
  const uint32_t len = static_cast<uint32_t>(c.bytes.size());
  const unsigned n = r.in(1, 3);
  for (unsigned k = 0; k < n; ++k) {
    switch (r.in(0, 5)) {
      case 0: c.h.flags = r.pick<uint8_t>({0, 1, 2, 3, 4, static_cast<uint8_t>(r.g())}); break;
      case 1: c.h.gso_type = r.pick<uint8_t>({0, 1, 3, 4, 5, 0x81, 0x84, 0x85, 0x80, 2, 6, static_cast<uint8_t>(r.g())}); break;
      case 2: c.h.gso_size = static_cast<uint16_t>(r.pick<uint32_t>({0, 1, 2, 7, 65535, 65000, r.in(0, 65535), r.in(1, 2000)})); break;
      case 3: c.h.csum_start = wild16(r, r.pct(50) ? len : c.h.csum_start); break;
      case 4: c.h.csum_offset = wild16(r, r.pct(50) ? 16 : 6); break;
      default: c.h.hdr_len = wild16(r, c.h.hdr_len); break;
    }
  }
  c.corruption += "vnet,";
}

constexpr uint64_t kRxBits = (1ULL << 23) - 1;

void corrupt_rx(Rng& r, Case& c) {
  if (r.pct(70)) c.rx_flags = (c.rx_flags & ~kRxBits) | (r.g() & kRxBits);
  if (r.pct(50)) c.rx_flags |= RTE_MBUF_F_RX_LRO;
  if (r.pct(60)) c.rx_segsz = static_cast<uint16_t>(r.pick<uint32_t>({0, 1, 2, 65535, r.in(0, 65535), r.in(1, 1500)}));
  c.corruption += "rx,";
}

Case random_case(Rng& r, Source src, bool may_corrupt) {
  Case c;
  c.src = src;
  Shape& s = c.shape;
  s = random_shape(r, src == Source::rx);
  // The offloads the sender asks for.
  const unsigned kind = r.in(0, 9);  // 0..1 none, 2..4 partial checksum, 5..9 GSO
  c.gso = kind >= 5;
  s.partial = kind >= 2;
  if (src == Source::vnet) {
    if (s.partial) {
      c.h.flags = kVnetFNeedsCsum;
      c.h.csum_start = static_cast<uint16_t>(s.l2() + s.l3());
      c.h.csum_offset = s.udp ? 6 : 16;
      c.h.hdr_len = static_cast<uint16_t>(s.hdrs());
    } else if (kind == 1) {
      c.h.flags = kVnetFDataValid;
    }
    if (c.gso) {
      c.h.gso_type = s.udp ? kVnetGsoUdpL4 : s.v6 ? kVnetGsoTcpV6 : kVnetGsoTcpV4;
      if (!s.udp && (s.tcp_flags & 0x80)) c.h.gso_type |= kVnetGsoEcn;
    }
  } else {
    // net_vhost: a partial checksum is L4_CKSUM_NONE; a GSO frame adds LRO (with a partial
    // checksum, or a complete one marked good); other receive flags mean nothing here.
    c.rx_flags = r.pick<uint64_t>({0, RTE_MBUF_F_RX_RSS_HASH, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
                                   RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED});
    if (c.gso) {
      s.partial = r.pct(80);
      c.rx_flags |= RTE_MBUF_F_RX_LRO | (s.partial ? RTE_MBUF_F_RX_L4_CKSUM_NONE : RTE_MBUF_F_RX_L4_CKSUM_GOOD);
    } else if (s.partial) {
      c.rx_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
    } else if (kind == 1) {
      c.rx_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    }
    // What else a receive path may have left in the mbuf.
    c.rx_tx_offload = r.pct(30) ? (static_cast<uint64_t>(r.g()) << 32 | r.g()) : 0;
  }
  if (c.gso) {
    uint16_t size;
    switch (r.in(0, 5)) {
      case 0: size = static_cast<uint16_t>(r.in(1, 64)); break;
      case 1: size = static_cast<uint16_t>(r.in(1000, 1500)); break;
      case 2: size = static_cast<uint16_t>(r.in(8000, 9000)); break;
      case 3: size = static_cast<uint16_t>(r.in(40000, 65535)); break;
      default: size = static_cast<uint16_t>(r.in(1, 9000)); break;
    }
    c.h.gso_size = size;
    c.rx_segsz = size;
  }
  c.bytes = build(s);
  if (may_corrupt && r.pct(85)) {
    c.valid = false;
    const unsigned what = r.in(0, 9);
    if (what < 5) corrupt_bytes(r, c);
    if (what >= 4 || c.corruption.empty()) {
      if (src == Source::vnet) corrupt_vnet(r, c);
      else corrupt_rx(r, c);
    }
    if (what == 9) corrupt_bytes(r, c);
  }
  c.segs = random_chain(r, static_cast<uint32_t>(c.bytes.size()), s.hdrs());
  return c;
}

class OffloadFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* n = std::getenv("OFFLOAD_FUZZ_CASES");
    cases_ = n ? static_cast<unsigned>(std::strtoul(n, nullptr, 10)) : 0;
    const char* s = std::getenv("OFFLOAD_FUZZ_SEED");
    seed_ = s ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10)) : 0;
    base_ = pool().in_use();
    big_base_ = big_pool().in_use();
    ind_base_ = gso_ind_in_use();
    dry_base_ = dry_pool_.in_use();
  }
  unsigned cases(unsigned def) const { return cases_ ? cases_ : def; }

  // Runs one case through the mapping and prepare() for one egress port. Returns the errors
  // found (empty if none).
  // dry: the pools prepare() allocates from have only `left` mbufs free.
  std::string run(const Case& c, const Egress& eg, uint32_t mtu, bool shared, bool dry = false, unsigned left = 0);
  void run_all(Source src, bool may_corrupt, unsigned n, uint32_t seed, bool dry = false);

  Counter copies_;
  EgressOffload egress_{copies_, pool().get()};
  // For the runs with pools that run dry: its own pool of copies and segment headers.
  PktPool dry_pool_{"fuzz-dry", 2048, RTE_MBUF_DEFAULT_BUF_SIZE, 0};
  EgressOffload dry_egress_{copies_, dry_pool_.get()};
  unsigned dry_base_ = 0;
  rte_mbuf* out_[EgressOffload::kMaxSegments + 8];
  unsigned cases_ = 0;
  uint32_t seed_ = 0;
  unsigned base_ = 0, big_base_ = 0, ind_base_ = 0;
  std::map<std::string, unsigned> outcomes_;  // what prepare() did
};

// Whether the mapping must accept a never-corrupted case (the contract of ports/vnet_hdr.h).
bool must_map(const Case& c) {
  const Shape& s = c.shape;
  if (c.segs.empty() || c.segs[0] < s.hdrs()) return false;  // headers beyond the first segment: refused
  if (c.src == Source::rx) return (s.ext.empty() || !(s.partial || c.gso)) && !(s.udp && c.gso);  // UDP LRO: UFO
  return !(c.gso && s.l3() >= (1u << RTE_MBUF_L3_LEN_BITS));
}

// Takes all but `left` free mbufs of each pool prepare() allocates from (the direct pool, and
// every pool of indirect mbufs), into `held`.
void drain(rte_mempool* direct, unsigned left, std::vector<rte_mbuf*>& held) {
  auto take = [&](rte_mempool* mp) {
    const unsigned avail = rte_mempool_avail_count(mp);
    if (avail <= left) return;
    const size_t at = held.size();
    held.resize(at + avail - left);
    if (rte_pktmbuf_alloc_bulk(mp, held.data() + at, avail - left) != 0) held.resize(at);
  };
  take(direct);
  std::vector<rte_mempool*> ind;
  rte_mempool_walk(
      [](rte_mempool* mp, void* arg) {
        if (std::strncmp(mp->name, "gso-ind", 7) == 0) static_cast<std::vector<rte_mempool*>*>(arg)->push_back(mp);
      },
      &ind);
  for (rte_mempool* mp : ind) take(mp);
}

std::string OffloadFuzz::run(const Case& c, const Egress& eg, uint32_t mtu, bool shared, bool dry, unsigned left) {
  std::ostringstream err;
  rte_mbuf* m = to_mbuf_cut(c.bytes, c.segs);
  if (!m) return "test pools empty";
  if (c.src == Source::rx) {
    m->ol_flags = c.rx_flags;
    m->tx_offload = c.rx_tx_offload;
    m->tso_segsz = c.rx_segsz;
  }
  const bool mapped = c.src == Source::vnet ? vnet_hdr_to_mbuf(c.h, m) : rx_offloads_to_mbuf(m);
  if (c.valid && !mapped && must_map(c)) err << "mapping refused a valid frame; ";
  if (!mapped) {  // the port drops it on receive
    ++outcomes_["refused by the mapping"];
    rte_pktmbuf_free(m);
    return err.str();
  }
  if (const char* why = nullptr; rte_mbuf_check(m, 1, &why) != 0) err << "mapped mbuf inconsistent: " << why << "; ";
  // rx_offloads_to_mbuf() describes what it accepts with a partial checksum or LRO (TCP or UDP
  // over IP) in tapswitch's flags; anything else it must refuse.
  if (c.src == Source::rx && (c.rx_flags & (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_MASK)) &&
      ((c.rx_flags & RTE_MBUF_F_RX_LRO) || (c.rx_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE) &&
      !(m->ol_flags & RTE_MBUF_F_TX_L4_MASK))
    err << "rx offloads accepted but not described; ";

  // What was mapped: the frame prepare() is given.
  const Bytes in = bytes_of(m);
  const uint64_t in_ol = m->ol_flags, in_txo = m->tx_offload;
  const uint16_t in_segs = m->nb_segs;
  const bool needs = EgressOffload::needs_work(m, EgressOffload::rules(eg.o), max_frame_len(mtu, false));
  if (shared) rte_pktmbuf_refcnt_update(m, 1);

  SwitchPortCounters counters;
  std::vector<rte_mbuf*> held;
  if (dry) drain(dry_pool_.get(), left, held);
  const unsigned k = (dry ? dry_egress_ : egress_).prepare(m, eg.o, mtu, out_, EgressOffload::kMaxSegments, counters);
  for (rte_mbuf* h : held) rte_pktmbuf_free(h);
  uint64_t drops = 0;
  for (unsigned i = 0; i < kDropReasons; ++i) drops += counters.drops[i].get();
  const uint64_t bad = counters.drops[static_cast<unsigned>(DropReason::bad_offload)].get();
  const uint64_t nombuf = counters.drops[static_cast<unsigned>(DropReason::no_mbuf)].get();
  const uint64_t oversize = counters.drops[static_cast<unsigned>(DropReason::oversize)].get();
  if (drops != oversize + bad + nombuf) err << "drop counted under another reason; ";

  if (k > EgressOffload::kMaxSegments) err << "k=" << k << " > kMaxSegments; ";
  if (k == 0 && drops != 1) err << "dropped with " << drops << " drops counted; ";
  if (k > 0 && drops != 0) err << k << " frames out and " << drops << " drops counted; ";
  if (!needs && !(k == 1 && out_[0] == m)) err << "a frame needs_work() passes was not sent as it is; ";
  if (c.valid && bad) err << "a valid frame counted as bad_offload; ";
  ++outcomes_[k == 0 ? (oversize ? "oversize" : bad ? "bad_offload" : "no_mbuf") : k == 1 ? "1 frame" : "segmented"];

  // Every frame out: fits the port.
  const uint32_t hdrs = c.shape.hdrs();
  Bytes payload;
  const bool tcp = !c.shape.udp;
  const uint32_t seq_at = c.shape.l2() + c.shape.l3() + 4;
  for (unsigned i = 0; i < k && i < EgressOffload::kMaxSegments; ++i) {
    const rte_mbuf* o = out_[i];
    std::ostringstream e;
    if (const char* why = nullptr; rte_mbuf_check(o, 1, &why) != 0) {
      err << "out[" << i << "] inconsistent: " << why << "; ";
      continue;
    }
    const Bytes b = bytes_of(o);
    const uint64_t ol = o->ol_flags;
    const bool seg = ol & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG);
    const uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK;
    if (seg) {
      const bool can = (ol & RTE_MBUF_F_TX_TCP_SEG) ? ((ol & RTE_MBUF_F_TX_IPV6) ? eg.o.tso6 : eg.o.tso4) : eg.o.uso;
      if (!can) e << "GSO the port cannot do; ";
      const uint32_t seg_frame = o->l2_len + o->l3_len + o->l4_len + o->tso_segsz;
      if (seg_frame > max_frame_len(mtu, o->l2_len > 14)) e << "GSO segments of " << seg_frame << " bytes; ";
      if (o->tso_segsz == 0) e << "tso_segsz 0; ";
    } else if (b.size() > max_frame_len(mtu, is_tagged(b))) {
      e << "frame of " << b.size() << " bytes; ";
    }
    if (l4 && !eg.o.l4_csum) e << "partial checksum the port cannot complete; ";
    if (l4 && l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM) e << "L4 flags " << l4 << "; ";
    if (!eg.o.multi_seg && o->nb_segs != 1) e << "chain of " << o->nb_segs << " for a single-buffer port; ";
    // The header the port is given.
    const VnetHdr vh = mbuf_to_vnet_hdr(o);
    if (vh.flags & kVnetFNeedsCsum) {
      if (uint32_t{vh.csum_start} + vh.csum_offset + 2 > o->data_len) e << "vnet csum beyond the first segment; ";
      if (vh.hdr_len > o->pkt_len) e << "vnet hdr_len beyond the frame; ";
    } else if (vh.gso_type != kVnetGsoNone) {
      e << "GSO header without a partial checksum; ";
    }
    if (vh.gso_type != kVnetGsoNone && vh.gso_size == 0) e << "vnet gso_size 0; ";
    // Frames from a valid input: checksums, lengths, sequence numbers, payload.
    if (c.valid) {
      std::string why;
      if (seg) {
        if (b != in) e << "GSO frame passed changed; ";
      } else if (l4) {
        // A partial checksum: completed as a device would, from csum_start to the end.
        Bytes d = b;
        const uint32_t start = o->l2_len + o->l3_len, field = start + (l4 == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6);
        if (field + 2 > d.size()) {
          e << "partial checksum field beyond the frame; ";
        } else {
          const uint16_t v = static_cast<uint16_t>(~ones_sum(&d[start], d.size() - start));
          put16(d, field, v == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM ? 0xffff : v);
          if (!frame_ok(d, &why)) e << "partial checksum wrong once completed (" << why << "); ";
        }
      } else if (!frame_ok(b, &why)) {
        e << "bad frame (" << why << "); ";
      }
      if (b.size() < hdrs) {
        e << "shorter than the headers; ";
      } else {
        if (tcp && b.size() >= seq_at + 4 && get32(b, seq_at) != c.shape.seq + payload.size())
          e << "sequence number " << get32(b, seq_at) << " for offset " << payload.size() << "; ";
        if (tcp && k > 1) {
          const uint8_t f = b[seq_at + 9];
          if (i + 1 < k && (f & 0x09)) e << "FIN/PSH before the last segment; ";
          if (i > 0 && (f & 0x80)) e << "CWR after the first segment; ";
        }
        payload.insert(payload.end(), b.begin() + hdrs, b.end());
      }
    }
    if (!e.str().empty()) err << "out[" << i << "/" << k << "]: " << e.str();
  }
  if (c.valid && k > 0 && !std::equal(payload.begin(), payload.end(), in.begin() + std::min<size_t>(hdrs, in.size()), in.end()))
    err << "payloads out (" << payload.size() << " bytes) are not the input's (" << in.size() - std::min<size_t>(hdrs, in.size()) << "); ";

  for (unsigned i = 0; i < k && i < EgressOffload::kMaxSegments; ++i) rte_pktmbuf_free(out_[i]);
  if (shared) {
    if (rte_mbuf_refcnt_read(m) != 1) err << "shared frame's reference count now " << rte_mbuf_refcnt_read(m) << "; ";
    if (bytes_of(m) != in) err << "shared frame changed; ";
    if (m->ol_flags != in_ol || m->tx_offload != in_txo || m->nb_segs != in_segs)
      err << "shared frame's mbuf fields changed; ";
    rte_pktmbuf_free(m);
  }
  if (pool().in_use() != base_ || big_pool().in_use() != big_base_ || gso_ind_in_use() != ind_base_ ||
      dry_pool_.in_use() != dry_base_) {
    err << "pools not back to baseline: " << pool().in_use() << "/" << base_ << " " << big_pool().in_use() << "/"
        << big_base_ << " " << gso_ind_in_use() << "/" << ind_base_ << "; ";
    base_ = pool().in_use();
    big_base_ = big_pool().in_use();
    ind_base_ = gso_ind_in_use();
    dry_base_ = dry_pool_.in_use();
  }
  return err.str();
}

void OffloadFuzz::run_all(Source src, bool may_corrupt, unsigned n, uint32_t seed, bool dry) {
  unsigned failed = 0, runs = 0;
  for (unsigned i = 0; i < n; ++i) {
    Rng r(seed + seed_ * 1000003u + i);
    const Case c = random_case(r, src, may_corrupt);
    for (unsigned j = 0; j < 3; ++j) {
      const Egress& eg = kEgress[r.in(0, std::size(kEgress) - 1)];
      const uint32_t mtu = r.pick<uint32_t>({68, 576, 1280, 1500, 1500, 9000, r.in(68, 1500), r.in(68, 9000)});
      const bool shared = r.pct(30);
      ++runs;
      const unsigned left = r.pct(30) ? r.in(0, 3) : r.in(0, 80);
      const std::string e = run(c, eg, mtu, shared, dry, left);
      if (!e.empty() && ++failed <= 15)
        ADD_FAILURE() << "case " << i << " (seed " << seed + seed_ * 1000003u + i << ") egress " << eg.name
                      << " mtu " << mtu << (shared ? " shared" : "") << (dry ? " pools with " + std::to_string(left) + " free" : "")
                      << ":\n  " << describe(c) << "\n  " << e;
    }
  }
  EXPECT_EQ(failed, 0u) << "of " << runs << " runs";
  std::string summary;
  for (const auto& [what, count] : outcomes_) summary += " " + what + ": " + std::to_string(count) + ";";
  std::printf("  %u runs:%s\n", runs, summary.c_str());
}

TEST_F(OffloadFuzz, ValidVnetFrames) { run_all(Source::vnet, false, cases(1500), 1000000); }
TEST_F(OffloadFuzz, CorruptVnetFrames) { run_all(Source::vnet, true, cases(3000), 2000000); }
TEST_F(OffloadFuzz, ValidRxOffloads) { run_all(Source::rx, false, cases(1000), 3000000); }
TEST_F(OffloadFuzz, CorruptRxOffloads) { run_all(Source::rx, true, cases(2000), 4000000); }
// The same with pools that run dry while prepare() copies or segments: every error path.
TEST_F(OffloadFuzz, VnetFramesWithPoolsRunningDry) { run_all(Source::vnet, true, cases(1500), 5000000, true); }
TEST_F(OffloadFuzz, RxOffloadsWithPoolsRunningDry) { run_all(Source::rx, true, cases(1000), 6000000, true); }


}  // namespace
}  // namespace tapswitch::test
