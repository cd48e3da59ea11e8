#!/bin/sh
# Sets up tapswitch on a Debian 12 machine, as root, from a checkout:
#
#   ./scripts/bootstrap.sh demo    install what is missing, build, run the demo
#   ./scripts/bootstrap.sh test    install what is missing, build, run every test
#
# Only Debian packages are installed; nothing is downloaded at build time.
set -eu

cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  demo|test) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root (it installs packages and creates network namespaces)" >&2
  exit 2
fi

# Build and run dependencies, then what the tests and the demo drive.
packages="g++ meson ninja-build pkg-config
  libdpdk-dev libboost-program-options-dev libspdlog-dev nlohmann-json3-dev liburing-dev
  libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  iproute2 iputils-ping python3 procps tshark util-linux dpdk-dev ethtool
  qemu-system-x86 linux-image-amd64 busybox-static
  iperf3 netsniff-ng gnuplot-nox"  # the last line: what bench/run drives

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== Installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

echo "== Building"
[ -f build/build.ninja ] || meson setup build
if [ "$what" = test ]; then
  # The tests also run the FDB stress test built with ThreadSanitizer (about 30 s more).
  meson configure build -Dtsan=true
fi
meson compile -C build

case "$what" in
  demo) exec ./scripts/demo.sh build ;;
  test) exec meson test -C build --print-errorlogs --num-processes 2 ;;
esac
