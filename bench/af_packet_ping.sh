#!/bin/bash
# Ping and 60 B frame rate through tapswitch between an af_packet port and a raw-fd tap.
#
#   bench/af_packet_ping.sh TAPSWITCH_BINARY [RUNS]          (as root; RUNS defaults to 3)
#
# Namespace A sits behind a veth whose host end is a dpdk:net_af_packet port; namespace B owns
# a tap: port. One worker on CPU 1 (--lcores 1), generators on CPU 0. Per run: 300 pings 10 ms
# apart (the adaptive worker sleeps between them), then trafgen's 60-byte UDP frames for 3 s,
# counted as rx_packets of B's tap. Pass two binaries' results side by side to compare builds;
# the machine is shared and noisy, so compare within one sitting only. Not a pass/fail test.
set -euo pipefail

bin=$1
runs=${2:-3}
id=bap$$
na=${id}A nb=${id}B
pid= tg=
cleanup() {
  [ -n "$tg" ] && pkill -INT -f "$id.cfg" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$na" 2>/dev/null || true
  ip netns del "$nb" 2>/dev/null || true
  rm -f "/tmp/$id.cfg" "/tmp/$id.log"
}
trap cleanup EXIT

for run in $(seq "$runs"); do
  ip netns add "$na"
  ip netns add "$nb"
  ip link add "${id}a" type veth peer name "${id}p"
  ip link set "${id}p" netns "$na"
  ip link set "${id}a" up
  "$bin" --lcores 1 --ctl "/tmp/$id.sock" --port "dpdk:net_af_packet9,iface=${id}a" --port "tap:${id}t" \
    >"/tmp/$id.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do ip link show "${id}t" >/dev/null 2>&1 && break; sleep 0.1; done
  ip link set "${id}t" netns "$nb"
  ip -n "$na" addr add 10.79.0.1/24 dev "${id}p"
  ip -n "$na" link set "${id}p" up
  ip -n "$nb" addr add 10.79.0.2/24 dev "${id}t"
  ip -n "$nb" link set "${id}t" up
  ip netns exec "$na" ping -c 3 -i 0.2 -q 10.79.0.2 >/dev/null
  rtt=$(ip netns exec "$na" taskset -c 0 ping -c 300 -i 0.01 -q 10.79.0.2 | tail -1)
  macb=$(ip -n "$nb" -br link show "${id}t" | awk '{print $3}')
  maca=$(ip -n "$na" -br link show "${id}p" | awk '{print $3}')
  echo "{ eth(da=$macb, sa=$maca, type=0x0800), ipv4(sa=10.79.0.1, da=10.79.0.99, ttl=64), udp(sp=9, dp=9), fill(0x41, 18) }" \
    >"/tmp/$id.cfg"
  ip netns exec "$na" taskset -c 0 trafgen --dev "${id}p" --conf "/tmp/$id.cfg" --cpus 1 -q --no-sock-mem \
    >/dev/null 2>&1 &
  tg=$!
  sleep 1
  r0=$(ip netns exec "$nb" cat "/sys/class/net/${id}t/statistics/rx_packets")
  sleep 3
  r1=$(ip netns exec "$nb" cat "/sys/class/net/${id}t/statistics/rx_packets")
  pkill -INT -f "$id.cfg" || true
  wait "$tg" 2>/dev/null || true
  tg=
  echo "run $run: ping ${rtt#*= } (min/avg/max/mdev); 60 B $(( (r1 - r0) / 3000 )) kpps"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  ip netns del "$na"
  ip netns del "$nb"
done
