// Counter: a 64-bit statistic with exactly one writer thread and any number of readers.
//
// The writer adds with a plain load+store (no locked instruction); readers see a value that
// is never torn and at most slightly stale. Two threads must never add to the same Counter.
#pragma once

#include <atomic>
#include <cstdint>

namespace tapswitch {

class Counter {
 public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }
  void set(uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace tapswitch
