// The process's own AF_PACKET sockets bound to one interface, found through /proc/self/fd.
//
// DPDK 22.11's net_af_packet has no rx interrupts, but each of its queues is a packet socket
// with a TPACKET ring, and such a socket polls readable while the ring holds a frame the
// process has not taken. The ethdev API does not hand that fd out, so an af_packet port finds
// it: the packet socket bound to its interface (ports/ethdev_port.cpp uses it only when there
// is exactly one, that is a single-queue port and no other on the interface).
#pragma once

#include <vector>

namespace tapswitch {

std::vector<int> own_packet_sockets(unsigned ifindex);

}  // namespace tapswitch
