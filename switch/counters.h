// What the switch counts about its own decisions, per worker and per port.
//
// Each worker owns one WorkerCounters and is its only writer; the control thread sums them
// across workers when asked. Port ids index `ports`. Drops are counted at the port where they
// are decided: ingress for runt, same-port, no-destination, filtered, bad-source and dest-gone, egress for tx-full,
// oversize, no-mbuf and bad-offload (switch/egress_offload.h).
#pragma once

#include <array>
#include <cstdint>

#include "base/counter.h"

namespace tapswitch {

constexpr uint16_t kMaxPorts = 1024;  // port ids 0..kMaxPorts-1; kNoPort is never a port id
constexpr uint16_t kBurst = 32;

enum class DropReason : uint8_t {
  runt,       // shorter than an Ethernet header (14 bytes)
  same_port,  // destination learned on the ingress port
  no_dest,    // flooded, but no other port is there
  tx_full,    // the egress port did not accept it (queue full)
  filtered,   // IEEE 802.1D link-local group address a bridge must not forward
  oversize,   // longer than the egress MTU allows, and not a GSO frame that can be cut to fit
  no_mbuf,    // a pool ran dry while the frame was segmented or copied for the egress port
  bad_offload,  // offload fields that do not match the frame (cannot segment or checksum it)
  bad_source,   // a group (multicast) or all-zero source address: no station sends that
  dest_gone,    // to a MAC a static entry pins to a port that is not forwarding (gone, waiting)
  count_
};
constexpr unsigned kDropReasons = static_cast<unsigned>(DropReason::count_);
const char* to_string(DropReason r);

struct alignas(64) SwitchPortCounters {
  Counter rx_packets, rx_bytes;  // frames the switch took from the port
  Counter tx_packets, tx_bytes;  // frames the port accepted from the switch
  Counter flooded;               // frames from this port sent to every other port
  std::array<Counter, kDropReasons> drops;

  void drop(DropReason r, uint64_t n = 1) noexcept { drops[static_cast<unsigned>(r)].add(n); }
};

struct SwitchPortTotals {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, flooded = 0;
  std::array<uint64_t, kDropReasons> drops{};

  void add(const SwitchPortCounters& c) noexcept {
    rx_packets += c.rx_packets.get();
    rx_bytes += c.rx_bytes.get();
    tx_packets += c.tx_packets.get();
    tx_bytes += c.tx_bytes.get();
    flooded += c.flooded.get();
    for (unsigned i = 0; i < kDropReasons; ++i) drops[i] += c.drops[i].get();
  }
  void subtract(const SwitchPortTotals& b) noexcept {
    rx_packets -= b.rx_packets;
    rx_bytes -= b.rx_bytes;
    tx_packets -= b.tx_packets;
    tx_bytes -= b.tx_bytes;
    flooded -= b.flooded;
    for (unsigned i = 0; i < kDropReasons; ++i) drops[i] -= b.drops[i];
  }
  uint64_t dropped() const noexcept {
    uint64_t s = 0;
    for (auto d : drops) s += d;
    return s;
  }
};

struct alignas(64) WorkerCounters {
  Counter iterations;
  Counter rx_bursts;    // polls that returned frames
  Counter rx_frames;
  Counter busy_cycles;  // TSC cycles in loop iterations that moved frames
  Counter idle_cycles;  // TSC cycles in iterations that found nothing (sleep not included)
  Counter sleeps;       // times the worker went to sleep (adaptive polling)
  Counter sleep_ns;     // time spent asleep
  Counter wakes_away;   // wake-ups on a CPU other than the worker's own (--wake-cpu any)
  Counter drained;      // frames this worker sent for other workers (tx rings)
  Counter copies;       // frame data copies made by the switch; flooding never copies
  std::array<SwitchPortCounters, kMaxPorts> ports;
};

}  // namespace tapswitch
