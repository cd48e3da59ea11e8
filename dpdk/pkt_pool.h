// PktPool: an rte_mbuf pool owned for its whole life.
//
// Every frame in tapswitch is an mbuf of the switch's pool, from rx to tx. The pool is created
// on the control thread and freed on destruction; by then every port must have returned its
// mbufs (in_use() == 0 after a clean shutdown).
#pragma once

#include <cstdint>
#include <string>

struct rte_mempool;

namespace tapswitch {

class PktPool {
 public:
  // name: a prefix; the pool's DPDK name gets a unique suffix, so callers need not invent one.
  // n: number of mbufs; data_room: bytes of buffer per mbuf, headroom included.
  // cache: mbufs kept per lcore (kAutoCache: an eighth of the pool, at most 256). A pool with a
  // cache also reserves one cache structure per possible lcore, about 1 MB in all.
  static constexpr unsigned kAutoCache = ~0u;
  PktPool(const std::string& name, unsigned n, uint16_t data_room, unsigned cache = kAutoCache);
  ~PktPool();
  PktPool(const PktPool&) = delete;
  PktPool& operator=(const PktPool&) = delete;

  rte_mempool* get() const noexcept { return mp_; }
  unsigned size() const noexcept;
  unsigned in_use() const noexcept;
  unsigned available() const noexcept;
  uint16_t data_room() const noexcept;

 private:
  rte_mempool* mp_ = nullptr;
};

}  // namespace tapswitch
