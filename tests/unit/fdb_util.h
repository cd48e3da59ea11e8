// Helpers shared by the FDB tests.
#pragma once

#include "fdb/fdb.h"

namespace tapswitch::test {

// 02:00:00:00:hi:lo on a VLAN.
inline FdbKey key(unsigned n, uint16_t vlan = 0) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  return FdbKey::make(vlan, mac);
}

inline FdbEntry lookup(const Fdb& fdb, FdbKey k) {
  FdbEntry e;
  fdb.lookup_bulk(&k, 1, &e);
  return e;
}

// Learns key on port through the worker-0 ring at time t.
inline void learn(Fdb& fdb, FdbKey k, uint16_t port, uint32_t t) {
  fdb.request_learn(0, k, port);
  fdb.process_learning_at(t);
}

}  // namespace tapswitch::test
