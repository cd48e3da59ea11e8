// The fast-I/O port options: offload=, mtu=, io=, queues= on raw-fd taps, mtu= on DPDK ports, --tap-io.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "ports/port_spec.h"
#include "ports/tap_io_choice.h"
#include "switch/config.h"
#include "tests/unit/args_util.h"

namespace tapswitch {
namespace {

std::string error_of(const std::string& spec) {
  try {
    parse_port_spec(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Expects parse_port_spec(spec) to fail with a message containing `needle`.
void expect_error(const std::string& spec, const std::string& needle) {
  EXPECT_NE(error_of(spec).find(needle), std::string::npos) << spec << ": " << error_of(spec);
}

SwitchConfig config_of(std::vector<std::string> args) { return test::parse_argv(std::move(args)).config; }

TEST(PortOptions, TapDefaults) {
  PortSpec s = parse_port_spec("tap:vm1");
  EXPECT_TRUE(s.offload);
  EXPECT_EQ(s.mtu, 0u);
  EXPECT_EQ(s.io, TapIo::automatic);
  EXPECT_EQ(s.queues, 1u);
}

TEST(PortOptions, TapQueues) {
  EXPECT_EQ(parse_port_spec("tap:vm1,queues=4").queues, 4u);
  EXPECT_EQ(parse_port_spec("tapfd:5,queues=2,name=g").queues, 2u);
  expect_error("tap:vm1,queues=0", "queues='0' must be a number from 1 to 16");
  expect_error("tap:vm1,queues=17", "from 1 to 16");
  expect_error("tapfd:5,queues=two", "queues='two'");
  expect_error("tap:vm1,queues=2,queues=2", "given twice");
}

TEST(PortOptions, TapOptions) {
  PortSpec s = parse_port_spec("tap:vm1,offload=off,mtu=9000,io=syscall");
  EXPECT_FALSE(s.offload);
  EXPECT_EQ(s.mtu, 9000u);
  EXPECT_EQ(s.io, TapIo::syscall);
  PortSpec f = parse_port_spec("tapfd:5,name=g,io=uring,offload=on");
  EXPECT_TRUE(f.offload);
  EXPECT_EQ(f.io, TapIo::uring);
  EXPECT_EQ(f.name, "g");
}

TEST(PortOptions, BadValuesNameTheProblem) {
  expect_error("tap:vm1,offload=maybe", "offload must be on or off");
  expect_error("tap:vm1,mtu=67", "from 68 to 65521");
  expect_error("tap:vm1,mtu=70000", "from 68 to 65521");
  expect_error("tap:vm1,mtu=9k", "mtu '9k'");
  expect_error("tap:vm1,io=aio", "io must be uring or syscall");
  expect_error("dpdk:net_tap0,iface=x,mtu=1,", "mtu");
}

// The kernel refuses a tap an MTU over 65535 less its Ethernet header (EINVAL at start).
TEST(PortOptions, TapMtuIsAtMost65521) {
  EXPECT_EQ(parse_port_spec("tap:vm1,mtu=65521").mtu, 65521u);
  EXPECT_EQ(error_of("tap:vm1,mtu=65530"),
            "port 'tap:vm1,mtu=65530': mtu '65530' is not a number from 68 to 65521 (a tap's largest MTU)");
  expect_error("tapfd:5,mtu=65522", "from 68 to 65521");
  expect_error("dpdk:net_tap0,iface=x,mtu=65522", "from 68 to 65521");
  EXPECT_EQ(parse_port_spec("dpdk:net_af_packet0,iface=veth0,mtu=65535").mtu, 65535u) << "not a tap";
}

TEST(PortOptions, DpdkMtuIsTakenOutOfTheDevargs) {
  PortSpec s = parse_port_spec("dpdk:net_tap0,iface=x,mtu=1400,queues=2");
  EXPECT_EQ(s.mtu, 1400u);
  EXPECT_EQ(s.queues, 2u);
  EXPECT_EQ(s.devargs, "net_tap0,iface=x");
  expect_error("dpdk:net_tap0,mtu=1400,mtu=1500", "given twice");
}

// offload= is tapswitch's: on by default only where it is measured and tested (net_vhost).
TEST(PortOptions, DpdkOffloadDefaultsByDriverAndIsTakenOutOfTheDevargs) {
  EXPECT_TRUE(parse_port_spec("dpdk:net_vhost0,iface=/tmp/s").offload);
  EXPECT_FALSE(parse_port_spec("dpdk:net_tap0,iface=x").offload);
  EXPECT_FALSE(parse_port_spec("dpdk:net_af_packet0,iface=x").offload);
  PortSpec on = parse_port_spec("dpdk:net_tap0,offload=on,iface=x");
  EXPECT_TRUE(on.offload);
  EXPECT_EQ(on.devargs, "net_tap0,iface=x");
  PortSpec off = parse_port_spec("dpdk:net_vhost0,iface=/tmp/s,offload=off,tso=1");
  EXPECT_FALSE(off.offload);
  EXPECT_EQ(off.devargs, "net_vhost0,iface=/tmp/s,tso=1");
  expect_error("dpdk:net_tap0,iface=x,offload=yes", "offload must be on or off");
  expect_error("dpdk:net_tap0,iface=x,offload=on,offload=off", "given twice");
}

TEST(PortOptions, TapIoDefaultsToAutoAndFillsPortsWithoutIo) {
  SwitchConfig c = config_of({"--port", "tap:a", "--port", "tap:b,io=uring", "--port", "dpdk:net_tap0"});
  EXPECT_EQ(c.tap_io, TapIo::automatic);
  EXPECT_EQ(c.ports[0].io, TapIo::automatic);  // chosen at start
  EXPECT_EQ(c.ports[1].io, TapIo::uring);
  EXPECT_EQ(c.ports[2].io, TapIo::automatic);  // not a raw-fd tap
  resolve_tap_io(c);
  EXPECT_NE(c.tap_io, TapIo::automatic);
  EXPECT_EQ(c.ports[0].io, c.tap_io);
  EXPECT_EQ(c.ports[1].io, TapIo::uring);
  EXPECT_EQ(c.ports[2].io, TapIo::automatic);
  SwitchConfig s = config_of({"--tap-io", "uring", "--port", "tap:a"});
  EXPECT_EQ(s.ports[0].io, TapIo::uring);
  SwitchConfig y = config_of({"--tap-io", "syscall", "--port", "tap:a"});
  resolve_tap_io(y);  // an explicit choice stays
  EXPECT_EQ(y.ports[0].io, TapIo::syscall);
  try {
    config_of({"--tap-io", "epoll"});
    ADD_FAILURE() << "--tap-io epoll accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--tap-io: 'epoll' is not auto, uring or syscall"), std::string::npos)
        << e.what();
  }
}

// --tap-io auto: io_uring where a system call is expensive (page-table isolation), read/write
// where it is cheap; the measurement is a positive time in a plausible range.
TEST(PortOptions, TapIoAutoChoosesByTheCostOfASystemCall) {
  EXPECT_EQ(choose_tap_io(80), TapIo::syscall);
  EXPECT_EQ(choose_tap_io(kUringFromSyscallNs - 1), TapIo::syscall);
  EXPECT_EQ(choose_tap_io(kUringFromSyscallNs), TapIo::uring);
  EXPECT_EQ(choose_tap_io(1040), TapIo::uring);
  const double ns = measure_syscall_ns();
  EXPECT_GT(ns, 5.0);
  EXPECT_LT(ns, 100'000.0);
}

// A duplicate is reported on the spec that came later, naming the one it collides with; for
// `port add`, on the added spec.
TEST(PortOptions, DuplicatesQuoteTheNewSpecAndNameTheOldOne) {
  auto error_of_unique = [](const std::vector<std::string>& existing, const std::string& added) {
    std::vector<PortSpec> specs;
    for (const auto& e : existing) specs.push_back(parse_port_spec(e));
    try {
      check_unique(specs, parse_port_spec(added));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of_unique({"tap:a", "tap:x"}, "dpdk:net_tap2,iface=x"),
            "port 'dpdk:net_tap2,iface=x': a port named 'x' is already configured, as 'tap:x'");
  EXPECT_EQ(error_of_unique({"tapfd:5,name=g"}, "tapfd:5,name=h"), "port 'tapfd:5,name=h': fd 5 is already used by port 'tapfd:5,name=g'");
  EXPECT_EQ(error_of_unique({"dpdk:net_tap0,iface=a"}, "dpdk:net_tap0,iface=b"),
            "port 'dpdk:net_tap0,iface=b': DPDK device 'net_tap0' is already configured, as 'dpdk:net_tap0,iface=a'");
  EXPECT_EQ(error_of_unique({"tap:a", "tap:b"}, "tap:c"), "no error");
  try {
    check_unique({parse_port_spec("tap:x"), parse_port_spec("tap:y"), parse_port_spec("tap:x,mtu=9000")});
    ADD_FAILURE() << "duplicate accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "port 'tap:x,mtu=9000': a port named 'x' is already configured, as 'tap:x'");
  }
}

TEST(PortOptions, MaxFrameLength) {
  EXPECT_EQ(max_frame_len(1500, false), 1514u);
  EXPECT_EQ(max_frame_len(1500, true), 1518u);
  EXPECT_EQ(max_frame_len(9000, false), 9014u);
}

}  // namespace
}  // namespace tapswitch
