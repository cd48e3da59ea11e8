// For unit tests that open real taps: they need root and /dev/net/tun, and skip without them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

namespace tapswitch::test {

inline bool can_make_taps() { return ::geteuid() == 0 && ::access("/dev/net/tun", R_OK | W_OK) == 0; }

}  // namespace tapswitch::test

// First statement of a TEST that opens real taps.
#define SKIP_WITHOUT_TAPS() \
  if (!::tapswitch::test::can_make_taps()) GTEST_SKIP() << "needs root and /dev/net/tun to create taps"
