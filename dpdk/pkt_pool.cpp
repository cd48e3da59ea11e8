#include "dpdk/pkt_pool.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "base/error.h"

namespace tapswitch {

PktPool::PktPool(const std::string& name, unsigned n, uint16_t data_room, unsigned cache) {
  // A per-lcore cache keeps the common alloc/free path off the shared ring.
  if (cache == kAutoCache) cache = std::min(256u, n / 8);
  static std::atomic<unsigned> serial{0};
  const std::string unique = name.substr(0, 12) + "_" + std::to_string(serial.fetch_add(1));
  mp_ = rte_pktmbuf_pool_create(unique.c_str(), n, cache, 0, data_room, rte_socket_id());
  if (!mp_)
    fail("cannot create mbuf pool '{}' of {} mbufs x {} bytes: {} (raise --memory, or -m in --eal)", unique, n,
         data_room, rte_strerror(rte_errno));
}

PktPool::~PktPool() { rte_mempool_free(mp_); }

unsigned PktPool::size() const noexcept { return mp_->size; }
unsigned PktPool::in_use() const noexcept { return rte_mempool_in_use_count(mp_); }
unsigned PktPool::available() const noexcept { return rte_mempool_avail_count(mp_); }
uint16_t PktPool::data_room() const noexcept { return rte_pktmbuf_data_room_size(mp_); }

}  // namespace tapswitch
