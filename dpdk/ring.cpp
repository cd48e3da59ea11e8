#include "dpdk/ring.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>

#include "base/error.h"

namespace tapswitch {

Ring::Ring(const std::string& name, unsigned count, unsigned flags, unsigned esize) {
  static std::atomic<unsigned> serial{0};
  std::string unique = name.substr(0, 18) + "_" + std::to_string(serial.fetch_add(1));
  r_ = rte_ring_create_elem(unique.c_str(), esize, count, SOCKET_ID_ANY, flags);
  if (!r_) fail("cannot create ring '{}' of {} entries: {}", unique, count, rte_strerror(rte_errno));
}

Ring::~Ring() { rte_ring_free(r_); }

}  // namespace tapswitch
