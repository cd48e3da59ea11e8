#!/bin/bash
# The tapswitch demo: three network namespaces (vm1, vm2, vm3), each with one port of the switch,
# a ping between every pair, and the switch's view of ports and learned MACs.
#
#   ./scripts/demo.sh [BUILD_DIR]      (as root; ./scripts/bootstrap.sh demo builds first)
set -euo pipefail

build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tapswitch="$build/apps/tapswitch"
ctl_bin="$build/apps/tapswitchctl"
conf="$here/configs/demo.conf"
sock=/run/tapswitch/demo.sock
log=$(mktemp /tmp/tapswitch-demo.XXXXXX.log)
namespaces=(vm1 vm2 vm3)
switch_pid=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { "$ctl_bin" --ctl "$sock" "$@"; }

cleanup() {
  if [ -n "$switch_pid" ] && kill -0 "$switch_pid" 2>/dev/null; then
    kill -TERM "$switch_pid"
    wait "$switch_pid" || true
  fi
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}

for ns in "${namespaces[@]}"; do
  if ip netns list | grep -qw "^$ns"; then
    echo "demo: network namespace $ns already exists; remove it first (ip netns del $ns)" >&2
    exit 2
  fi
done
trap cleanup EXIT

say "Starting tapswitch with $conf"
grep -E '^port' "$conf" | sed 's/^/   /'
"$tapswitch" --config "$conf" >"$log" 2>&1 &
switch_pid=$!
for _ in $(seq 100); do
  ctl show ports >/dev/null 2>&1 && break
  kill -0 "$switch_pid" 2>/dev/null || { cat "$log"; echo "demo: tapswitch did not start" >&2; exit 1; }
  sleep 0.1
done

say "Plugging each port into its namespace: vmN gets 10.0.0.N/24"
for i in 1 2 3; do
  ns=vm$i
  ip netns add "$ns"
  ip link set "$ns" netns "$ns"
  ip -n "$ns" addr add "10.0.0.$i/24" dev "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$ns" up
  echo "   $ns: $(ip -n "$ns" -br addr show dev "$ns" | awk '{print $1, $3}')"
done

say "Pinging every pair"
failed=0
for a in 1 2 3; do
  for b in 1 2 3; do
    [ "$a" = "$b" ] && continue
    if out=$(ip netns exec "vm$a" ping -c 3 -i 0.2 -W 2 -q "10.0.0.$b" 2>&1); then
      rtt=$(echo "$out" | awk -F/ '/^rtt/ {print $5}')
      printf '   vm%s -> vm%s (10.0.0.%s): 3/3 replies, avg %s ms\n' "$a" "$b" "$b" "$rtt"
    else
      printf '   vm%s -> vm%s (10.0.0.%s): FAILED\n' "$a" "$b" "$b"
      failed=1
    fi
  done
done

say "tapswitchctl show ports"
ctl show ports | sed 's/^/   /'

say "tapswitchctl show stats   (what was switched, and every drop by reason)"
ctl show stats | sed 's/^/   /'

say "tapswitchctl show fdb   (each namespace's MAC, learned on its own port)"
ctl show fdb | sed 's/^/   /'
for i in 1 2 3; do
  echo "   vm$i's MAC is $(ip -n "vm$i" -br link show dev "vm$i" | awk '{print $3}')"
done

say "Stopping (SIGTERM) and removing the namespaces"
kill -TERM "$switch_pid"
wait "$switch_pid" && echo "   tapswitch exited cleanly" || { echo "   tapswitch exited with $?"; failed=1; }
switch_pid=""
echo "   its log: $log"
sed 's/^/     /' "$log"

if [ "$failed" = 0 ]; then
  say "Demo done: all 6 pairs answered."
else
  say "Demo FAILED: see above."
  exit 1
fi
