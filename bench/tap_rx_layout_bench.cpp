// Which mbuf layout should hold the frames a vnet_hdr tap hands over (up to 64 KB with GSO)?
//
//   chain: the frame is read into a chain of the switch's ordinary 2 KB mbufs (a readv() over
//          the header, then up to 32 mbufs);
//   big:   the frame is read into one ordinary mbuf followed, for what does not fit, by one mbuf
//          of a pool of 64 KB buffers (a readv() over the header and two buffers);
//   copy:  the frame and its header are read into one 64 KB buffer with a plain read(); a frame
//          that fits an ordinary mbuf is copied into one and the big buffer is read into again,
//          a larger one keeps the big buffer as a single segment.
//
// Both are measured on real taps: frames written to tap A cross a Linux bridge whole (GSO
// included) to tap B, where the layout under test reads them. Only the read side is timed
// (readv plus building the mbuf chain plus freeing it); the writes happen with the timer paused.
// The tx side writes a frame of each layout with writev().
//
// Needs root (CAP_NET_ADMIN); it runs in a private network namespace of its own, so nothing is
// left behind. Run: build/bench/tap_rx_layout_bench
#include <fcntl.h>
#include <sched.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "dpdk/eal.h"
#include "dpdk/pkt_pool.h"
#include "ports/tun.h"
#include "ports/vnet_hdr.h"

using namespace tapswitch;

namespace {

constexpr unsigned kBatch = 64;     // frames written, then read, per timed round
constexpr unsigned kMaxChain = 33;  // 2 KB mbufs a 64 KB frame may need

struct Env {
  std::unique_ptr<Eal> eal;
  std::unique_ptr<PktPool> small, big;
  TapHandle a, b;
};
Env* g_env = nullptr;

// A TCP/IPv4 frame of `payload` bytes, as a GSO frame when it is larger than one MSS.
std::vector<uint8_t> make_frame(unsigned payload, VnetHdr* h) {
  std::vector<uint8_t> f(14 + 20 + 20 + payload, 0x5a);
  const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + 14);
  std::memset(ip, 0, 20);
  ip->version_ihl = 0x45;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(f.size() - 14));
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = rte_cpu_to_be_32(0x0a000001);
  ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(f.data() + 34);
  std::memset(tcp, 0, 20);
  tcp->data_off = 5 << 4;
  tcp->tcp_flags = RTE_TCP_ACK_FLAG;
  tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
  *h = VnetHdr{};
  if (payload > 1448) {
    h->flags = kVnetFNeedsCsum;
    h->gso_type = kVnetGsoTcpV4;
    h->gso_size = 1448;
    h->hdr_len = 54;
    h->csum_start = 34;
    h->csum_offset = 16;
  }
  return f;
}

void write_batch(const std::vector<uint8_t>& f, const VnetHdr& h) {
  iovec iov[2] = {{const_cast<VnetHdr*>(&h), sizeof h}, {const_cast<uint8_t*>(f.data()), f.size()}};
  for (unsigned i = 0; i < kBatch; ++i)
    if (::writev(g_env->a.fd.get(), iov, 2) < 0) std::perror("writev");
}

// --- the chain layout ---
class ChainReader {
 public:
  ChainReader() { refill(); }
  ~ChainReader() { rte_pktmbuf_free_bulk(stash_, n_); }
  rte_mbuf* read(int fd) {
    if (n_ < kMaxChain) refill();
    iovec iov[kMaxChain + 1];
    VnetHdr h;
    iov[0] = {&h, sizeof h};
    for (unsigned i = 0; i < kMaxChain; ++i) {
      rte_mbuf* m = stash_[n_ - 1 - i];
      m->data_off = i == 0 ? RTE_PKTMBUF_HEADROOM : 0;
      iov[i + 1] = {rte_pktmbuf_mtod(m, void*), static_cast<size_t>(m->buf_len - m->data_off)};
    }
    ssize_t r = ::readv(fd, iov, kMaxChain + 1);
    if (r <= static_cast<ssize_t>(sizeof h)) return nullptr;
    uint32_t left = static_cast<uint32_t>(r - sizeof h);
    rte_mbuf* head = stash_[n_ - 1];
    rte_mbuf* prev = nullptr;
    head->pkt_len = left;
    uint16_t segs = 0;
    while (left) {
      rte_mbuf* m = stash_[--n_];
      uint16_t room = static_cast<uint16_t>(m->buf_len - m->data_off);
      m->data_len = static_cast<uint16_t>(left < room ? left : room);
      left -= m->data_len;
      if (prev) prev->next = m;
      prev = m;
      ++segs;
    }
    head->nb_segs = segs;
    vnet_hdr_to_mbuf(h, head);
    return head;
  }

 private:
  void refill() {
    unsigned want = 2 * kMaxChain - n_;
    if (rte_pktmbuf_alloc_bulk(g_env->small->get(), stash_ + n_, want) == 0) n_ += want;
  }
  rte_mbuf* stash_[2 * kMaxChain];
  unsigned n_ = 0;
};

// --- the big-buffer layout ---
class BigReader {
 public:
  ~BigReader() {
    if (small_) rte_pktmbuf_free(small_);
    if (big_) rte_pktmbuf_free(big_);
  }
  rte_mbuf* read(int fd) {
    if (!small_) small_ = rte_pktmbuf_alloc(g_env->small->get());
    if (!big_) {
      big_ = rte_pktmbuf_alloc(g_env->big->get());
      big_->data_off = 0;
    }
    VnetHdr h;
    const uint16_t room = static_cast<uint16_t>(small_->buf_len - small_->data_off);
    iovec iov[3] = {{&h, sizeof h}, {rte_pktmbuf_mtod(small_, void*), room}, {big_->buf_addr, big_->buf_len}};
    ssize_t r = ::readv(fd, iov, 3);
    if (r <= static_cast<ssize_t>(sizeof h)) return nullptr;
    uint32_t len = static_cast<uint32_t>(r - sizeof h);
    rte_mbuf* head = small_;
    small_ = nullptr;
    head->pkt_len = len;
    if (len <= room) {
      head->data_len = static_cast<uint16_t>(len);
    } else {
      head->data_len = room;
      big_->data_len = static_cast<uint16_t>(len - room);
      head->next = big_;
      head->nb_segs = 2;
      big_ = nullptr;
    }
    vnet_hdr_to_mbuf(h, head);
    return head;
  }

 private:
  rte_mbuf* small_ = nullptr;
  rte_mbuf* big_ = nullptr;
};

// --- the one-buffer layout ---
template <bool Tail>
class CopyReader {
 public:
  ~CopyReader() {
    if (big_) rte_pktmbuf_free(big_);
  }
  rte_mbuf* read(int fd) {
    if (!big_) big_ = rte_pktmbuf_alloc(g_env->big->get());
    constexpr uint16_t kHdr = sizeof(VnetHdr);
    uint8_t* at = static_cast<uint8_t*>(big_->buf_addr) + RTE_PKTMBUF_HEADROOM - kHdr;
    ssize_t r;
    if (Tail) {
      iovec iov[2] = {{at, static_cast<size_t>(big_->buf_len - RTE_PKTMBUF_HEADROOM + kHdr)}, {tail_, sizeof tail_}};
      r = ::readv(fd, iov, 2);
    } else {
      r = ::read(fd, at, big_->buf_len - RTE_PKTMBUF_HEADROOM + kHdr);
    }
    if (r <= static_cast<ssize_t>(kHdr)) return nullptr;
    uint32_t len = static_cast<uint32_t>(r - kHdr);
    VnetHdr h;
    std::memcpy(&h, at, kHdr);
    rte_mbuf* m;
    if (len <= RTE_MBUF_DEFAULT_DATAROOM) {
      m = rte_pktmbuf_alloc(g_env->small->get());
      std::memcpy(rte_pktmbuf_mtod(m, void*), at + kHdr, len);
    } else {
      m = big_;
      big_ = nullptr;
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
    vnet_hdr_to_mbuf(h, m);
    return m;
  }

 private:
  rte_mbuf* big_ = nullptr;
  uint8_t tail_[2048];
};

template <class Reader>
void BM_Rx(benchmark::State& state) {
  VnetHdr h;
  auto frame = make_frame(static_cast<unsigned>(state.range(0)), &h);
  Reader reader;
  uint64_t frames = 0, bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    write_batch(frame, h);
    state.ResumeTiming();
    for (;;) {
      rte_mbuf* m = reader.read(g_env->b.fd.get());
      if (!m) break;
      ++frames;
      bytes += m->pkt_len;
      rte_pktmbuf_free(m);
    }
  }
  state.counters["frames"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.counters["ns_per_frame"] = benchmark::Counter(static_cast<double>(frames),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// writev() of one frame held in the layout under test, to tap A (the bridge takes it to B,
// which is drained with the timer paused).
template <class Reader>
void BM_Tx(benchmark::State& state) {
  VnetHdr h;
  auto frame = make_frame(static_cast<unsigned>(state.range(0)), &h);
  write_batch(frame, h);
  Reader reader;
  rte_mbuf* m = reader.read(g_env->b.fd.get());
  std::vector<uint8_t> sink(70000);
  while (::read(g_env->b.fd.get(), sink.data(), sink.size()) > 0) {
  }
  if (!m) {
    state.SkipWithError("no frame came through the bridge");
    return;
  }
  VnetHdr th = mbuf_to_vnet_hdr(m);
  iovec iov[kMaxChain + 1];
  int n = 0;
  iov[n++] = {&th, sizeof th};
  for (rte_mbuf* s = m; s; s = s->next) iov[n++] = {rte_pktmbuf_mtod(s, void*), s->data_len};
  uint64_t frames = 0;
  for (auto _ : state) {
    for (unsigned i = 0; i < kBatch; ++i) {
      if (::writev(g_env->a.fd.get(), iov, n) > 0) ++frames;
    }
    state.PauseTiming();
    while (::read(g_env->b.fd.get(), sink.data(), sink.size()) > 0) {
    }
    state.ResumeTiming();
  }
  rte_pktmbuf_free(m);
  state.counters["segs"] = n - 1;
  state.counters["ns_per_frame"] = benchmark::Counter(static_cast<double>(frames),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK_TEMPLATE(BM_Rx, ChainReader)->Arg(18)->Arg(1460)->Arg(8960)->Arg(64000);
BENCHMARK_TEMPLATE(BM_Rx, BigReader)->Arg(18)->Arg(1460)->Arg(8960)->Arg(64000);
BENCHMARK_TEMPLATE(BM_Rx, CopyReader<false>)->Arg(18)->Arg(1460)->Arg(8960)->Arg(64000);
BENCHMARK_TEMPLATE(BM_Rx, CopyReader<true>)->Arg(18)->Arg(1460)->Arg(8960)->Arg(64000);
BENCHMARK_TEMPLATE(BM_Tx, ChainReader)->Arg(64000);
BENCHMARK_TEMPLATE(BM_Tx, BigReader)->Arg(64000);

int sh(const char* cmd) {
  int rc = std::system(cmd);
  if (rc != 0) std::fprintf(stderr, "failed: %s\n", cmd);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (::unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (run as root)");
    return 77;
  }
  benchmark::Initialize(&argc, argv);
  Env env;
  g_env = &env;
  env.eal = std::make_unique<Eal>(std::vector<std::string>{
      "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "512", "-l", "0",
      "--log-level=*:error", "--file-prefix=rxbench-" + std::to_string(::getpid())});
  env.small = std::make_unique<PktPool>("small", 4096, RTE_MBUF_DEFAULT_BUF_SIZE);
  env.big = std::make_unique<PktPool>("big", 64, UINT16_MAX);
  env.a = open_tap("bench", "tba", true);
  env.b = open_tap("bench", "tbb", true);
  if (sh("ip link add tbbr type bridge && ip link set tba master tbbr && ip link set tbb master tbbr && "
         "ip link set tbbr up && ip link set tba up && ip link set tbb up && "
         "ip link set tba txqueuelen 4096 && ip link set tbb txqueuelen 4096 && "
         "ip link set tba mtu 9000 && ip link set tbb mtu 9000 && ip link set tbbr mtu 9000") != 0)
    return 1;
  std::printf("offloads: %s\n", env.b.offloads.describe().c_str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  env.a = TapHandle{};
  env.b = TapHandle{};
  env.big.reset();
  env.small.reset();
  env.eal.reset();
  return 0;
}
