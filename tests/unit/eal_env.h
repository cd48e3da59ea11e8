// Unit tests share one DPDK EAL (pools, rings and the FDB's hash need it), started once per
// test program without hugepages, PCI or shared files.
#pragma once

#include "dpdk/pkt_pool.h"

namespace tapswitch::test {

// The pool every unit test allocates frames from (256-byte data room is not enough for all
// tests, so it uses DPDK's default).
PktPool& pool();
// A pool of 64 KB buffers, for frames that a chain of ordinary mbufs would make too long.
PktPool& big_pool();

}  // namespace tapswitch::test
