// Ring: an rte_ring owned for its whole life.
//
// The producer/consumer mode is chosen at creation (RING_F_SP_ENQ / RING_F_SC_DEQ) and is part
// of the contract of whoever owns the ring: a single-producer ring must only ever be enqueued
// by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

struct rte_ring;

namespace tapswitch {

class Ring {
 public:
  // count: capacity (rounded up to a power of two unless RING_F_EXACT_SZ); esize: element size
  // in bytes, a multiple of 4. The name gets a unique suffix, so callers need not invent one.
  Ring(const std::string& name, unsigned count, unsigned flags, unsigned esize = sizeof(void*));
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  rte_ring* get() const noexcept { return r_; }

 private:
  rte_ring* r_ = nullptr;
};

}  // namespace tapswitch
