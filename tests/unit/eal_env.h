// Unit tests share one DPDK EAL (pools, rings and the FDB's hash need it), started once per
// test program without hugepages, PCI or shared files.
#pragma once

#include "dpdk/pkt_pool.h"

namespace tapswitch::test {

// The pool every unit test allocates frames from (256-byte data room is not enough for all
// tests, so it uses DPDK's default).
PktPool& pool();

}  // namespace tapswitch::test
