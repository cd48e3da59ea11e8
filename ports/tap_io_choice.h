// --tap-io auto (the default): which I/O raw-fd tap ports use, chosen at start by what a system
// call costs on this machine.
//
// One read()/write() per frame costs two system calls per forwarded frame; io_uring
// (ports/tap_uring.h) batches them, but costs more inside the kernel per operation (submission,
// file lookup, completion). Measured on two kinds of 2-vCPU guest (README.md, "Choosing the tap
// I/O"): where a system call costs about 0.1 us, both paths forward within the noise of each
// other and read/write is kept (simplest, idle taps waited for with epoll); where page-table
// isolation makes it cost about 1 us, io_uring forwards 60-byte frames 2.3-2.6x faster. The
// threshold sits between the two.
//
// Concurrency: measure_syscall_ns() runs on the calling thread; call it before the workers start
// (it spins for about a millisecond).
#pragma once

#include "ports/port_spec.h"

namespace tapswitch {

// io_uring at or above this many ns per system call.
constexpr double kUringFromSyscallNs = 400;

// The cheapest of several timed rounds of a trivial system call, in ns: noise only adds time.
double measure_syscall_ns() noexcept;

inline TapIo choose_tap_io(double syscall_ns) noexcept {
  return syscall_ns >= kUringFromSyscallNs ? TapIo::uring : TapIo::syscall;
}

}  // namespace tapswitch
