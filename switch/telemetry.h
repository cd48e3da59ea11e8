// Telemetry: tapswitch's own commands in DPDK's telemetry socket.
//
// DPDK serves /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 (a SOCK_SEQPACKET socket read by
// dpdk-telemetry.py, from Debian's dpdk-dev package). tapswitch adds:
//   /tapswitch/ports[,NAME]  every port: kind, state, queues, counters (as `show ports -j`, without
//                            the per-reason drops and driver details, which NAME adds for one port)
//   /tapswitch/fdb_stats     FDB counters (`show fdb stats -j`)
//   /tapswitch/workers       per-worker counters (`show workers -j`)
//   /tapswitch/stats         switch counters, mbuf pool (`show stats -j`)
// The numbers come from the same Commands::dispatch that serves tapswitchctl, so both read the
// same counters. DPDK 22.11's telemetry has no floating-point values and no arrays of objects:
// fractions (percentages, average burst) appear as strings, booleans as 0/1, and a list of
// objects as a dict keyed by their names (ports) or positions (workers, queues). DPDK limits one reply to 16 KiB: with
// many ports, ask for them one at a time with /tapswitch/ports,NAME.
//
// Concurrency. Telemetry callbacks run on DPDK's telemetry threads (one per telemetry client),
// while the control thread is the only writer of the FDB and of the port set. They are kept
// apart by the control lock, a mutex owned by the control loop: the control thread holds it
// while it handles each event (EventLoop::set_dispatch_lock), and a telemetry callback holds it
// while it runs the command. So a callback never sees a port being added or removed, and the
// control thread waits at most for one callback (a few microseconds of counter reading; the
// conversion to DPDK's format happens after the lock is released). Workers never take the lock.
//
// DPDK cannot unregister telemetry commands, so they are registered once per process and answer
// null while no Telemetry object is attached. Lock order: the attachment lock (internal), then
// the control lock; the Telemetry object must be created and destroyed outside event handling
// (not while the control lock is held). Destruction waits for a running callback to finish.
#pragma once

#include <mutex>

#include <nlohmann/json.hpp>

struct rte_tel_data;

namespace tapswitch {

class Commands;

class Telemetry {
 public:
  Telemetry(const Commands& commands, std::mutex& control_lock);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;
};

// Fills d with j (an object or an array; scalars become a one-entry dict under "value").
// Exposed for tests.
void json_to_telemetry(const nlohmann::json& j, rte_tel_data* d);

}  // namespace tapswitch
