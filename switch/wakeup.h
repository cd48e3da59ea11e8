// WakeUp: how one thread wakes a worker that sleeps in epoll (adaptive polling).
//
// The worker sets `sleeping` before its last look at its queues and clears it after waking.
// A producer that has just enqueued work for that worker calls poke(): it costs a syscall only
// when the worker sleeps. The seq_cst fence pairs with the worker's seq_cst store, so either
// the worker sees the new work on its last look, or the producer sees it sleeping.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/error.h"
#include "base/unique_fd.h"

namespace tapswitch {

class WakeUp {
 public:
  WakeUp() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_) fail("eventfd: {}", std::strerror(errno));
  }

  // Any thread, after publishing work for the worker.
  void poke() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed)) poke_always();
  }
  // Any thread: wake the worker whatever it is doing (stop, new plan).
  void poke_always() noexcept {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(fd_.get(), &one, sizeof one);
  }

  // The worker only.
  void set_sleeping(bool s) noexcept { sleeping_.store(s, std::memory_order_seq_cst); }
  void drain() noexcept {
    uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(fd_.get(), &v, sizeof v);
  }
  int fd() const noexcept { return fd_.get(); }

 private:
  UniqueFd fd_;
  alignas(64) std::atomic<bool> sleeping_{false};
};

}  // namespace tapswitch
