// rwfwd: the naive read()/write() tap forwarder of the benchmark suite.
//
//   rwfwd [--cpu N] [--offload on|off] IFACE_A IFACE_B
//
// Two raw-fd taps, created by name with IFF_VNET_HDR and the offloads TUNSETOFFLOAD accepts
// (TSO/CSUM, USO where the kernel has it; the same probe as tapswitch's tap: ports), or plain
// frames with --offload off. One thread, pinned to CPU N, sleeps in poll() on both fds and, for
// each readable one, reads up to 32 frames, one read() each, writing each frame to the other
// tap with one write() as soon as it is read. No learning, no batching, no io_uring: the
// baseline that ISSUE 5's table calls "a naive read()/write() forwarder with IFF_VNET_HDR and
// TUNSETOFFLOAD", so that the suite measures it in the same run as everything else.
//
// It stops on SIGTERM or SIGINT, prints one JSON line of counters on stdout and exits 0; 2 for
// bad arguments or a start-up failure (one line on stderr).
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "ports/tun.h"

namespace {

constexpr int kBurst = 32;
// A GSO frame of up to 64 KB plus its virtio-net header.
constexpr size_t kBufLen = 65536 + tapswitch::kVnetHdrLen;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Side {
  tapswitch::TapHandle tap;
  uint64_t frames = 0, bytes = 0, write_errors = 0;
};

int usage() {
  std::fprintf(stderr, "usage: rwfwd [--cpu N] [--offload on|off] IFACE_A IFACE_B\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int cpu = -1;
  bool offload = true;
  std::vector<std::string> ifaces;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cpu" && i + 1 < argc) {
      cpu = std::atoi(argv[++i]);
    } else if (a == "--offload" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v != "on" && v != "off") return usage();
      offload = v == "on";
    } else if (!a.empty() && a[0] != '-') {
      ifaces.push_back(a);
    } else {
      return usage();
    }
  }
  if (ifaces.size() != 2) return usage();
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
      std::fprintf(stderr, "rwfwd: cannot pin to CPU %d: %s\n", cpu, std::strerror(errno));
      return 2;
    }
  }
  Side side[2];
  try {
    for (int i = 0; i < 2; ++i) side[i].tap = tapswitch::open_tap("tap:" + ifaces[i], ifaces[i], offload);
  } catch (const tapswitch::Error& e) {
    std::fprintf(stderr, "rwfwd: %s\n", e.what());
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::fprintf(stderr, "rwfwd: forwarding between %s and %s (offloads %s) on CPU %d\n", ifaces[0].c_str(),
               ifaces[1].c_str(), side[0].tap.offloads.describe().c_str(), cpu);

  std::vector<char> buf(kBufLen);
  pollfd pfd[2] = {{side[0].tap.fd.get(), POLLIN, 0}, {side[1].tap.fd.get(), POLLIN, 0}};
  while (!g_stop) {
    if (::poll(pfd, 2, 200) <= 0) continue;  // a timeout or a signal: look at the stop flag
    for (int i = 0; i < 2; ++i) {
      if (!(pfd[i].revents & POLLIN)) continue;
      const int out = side[1 - i].tap.fd.get();
      for (int k = 0; k < kBurst; ++k) {
        const ssize_t n = ::read(pfd[i].fd, buf.data(), buf.size());
        if (n <= 0) break;
        if (::write(out, buf.data(), static_cast<size_t>(n)) != n) {
          ++side[i].write_errors;
          continue;
        }
        ++side[i].frames;
        side[i].bytes += static_cast<uint64_t>(n);
      }
    }
  }
  std::printf("{\"a_to_b\": {\"frames\": %llu, \"bytes\": %llu, \"write_errors\": %llu}, "
              "\"b_to_a\": {\"frames\": %llu, \"bytes\": %llu, \"write_errors\": %llu}}\n",
              static_cast<unsigned long long>(side[0].frames), static_cast<unsigned long long>(side[0].bytes),
              static_cast<unsigned long long>(side[0].write_errors),
              static_cast<unsigned long long>(side[1].frames), static_cast<unsigned long long>(side[1].bytes),
              static_cast<unsigned long long>(side[1].write_errors));
  return 0;
}
