// Command line, config file and port-spec parsing, with each error.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "base/error.h"
#include "switch/config.h"
#include "tests/unit/args_util.h"
#include "switch/switch.h"

namespace tapswitch {
namespace {

ParsedArgs parse(std::vector<std::string> args) { return test::parse_argv(std::move(args)); }

// Expects parse() to fail with a message containing `needle`.
void expect_error(std::vector<std::string> args, const std::string& needle) {
  try {
    parse(args);
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/tapswitch-conf-XXXXXX";
    int fd = mkstemp(tmpl);
    path_ = tmpl;
    ::close(fd);
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Config, Defaults) {
  ParsedArgs a = parse({});
  EXPECT_EQ(a.action, ParsedArgs::Action::run);
  EXPECT_TRUE(a.config.ports.empty());
  EXPECT_EQ(a.config.ctl_path, "/run/tapswitch/tapswitch.sock");
  EXPECT_EQ(a.config.log_level, "info");
  EXPECT_EQ(a.config.fdb_size, 65536u);
  EXPECT_TRUE(a.config.eal.empty());
}

TEST(Config, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"}).action, ParsedArgs::Action::help);
  EXPECT_NE(parse({"-h"}).help.find("--port"), std::string::npos);
  EXPECT_EQ(parse({"--version"}).action, ParsedArgs::Action::version);
}

TEST(Config, PortsOfEveryKind) {
  ParsedArgs a = parse({"--port", "tap:vm1", "--port", "tapfd:5,name=guest", "--port",
                        "dpdk:net_tap0,iface=vm3", "--port", "dpdk:net_ring0"});
  const auto& p = a.config.ports;
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].kind, PortKind::tap);
  EXPECT_EQ(p[0].name, "vm1");
  EXPECT_EQ(p[1].kind, PortKind::tapfd);
  EXPECT_EQ(p[1].fd, 5);
  EXPECT_EQ(p[1].name, "guest");
  EXPECT_EQ(p[2].kind, PortKind::dpdk);
  EXPECT_EQ(p[2].devargs, "net_tap0,iface=vm3");
  EXPECT_EQ(p[2].name, "vm3");
  EXPECT_EQ(p[3].name, "net_ring0");
}

TEST(Config, LinkPort) {
  ParsedArgs a = parse({"--port", "link:vnet0", "--tap-io", "uring"});
  const auto& p = a.config.ports;
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].kind, PortKind::link);
  EXPECT_EQ(p[0].name, "vnet0");
  EXPECT_EQ(p[0].ifname, "vnet0");
  EXPECT_TRUE(p[0].offload);
  EXPECT_EQ(p[0].io, TapIo::syscall);  // a packet socket needs recvmsg(), whatever --tap-io says
}

TEST(Config, UnknownOption) { expect_error({"--bogus"}, "unrecognised option '--bogus'"); }
TEST(Config, MissingValue) { expect_error({"--port"}, "--port"); }
TEST(Config, BadNumber) { expect_error({"--fdb-size", "many"}, "fdb-size"); }
TEST(Config, BadLogLevel) { expect_error({"--log-level", "loud"}, "--log-level: 'loud'"); }
TEST(Config, TooLittleMemory) { expect_error({"--memory", "8"}, "--memory"); }
TEST(Config, TooFewMbufs) { expect_error({"--mbufs", "10"}, "--mbufs"); }
TEST(Config, PositionalArgument) { expect_error({"stray"}, "positional"); }

// Boost reads "-1" into an unsigned as 4294967295; every number option must refuse it instead.
TEST(Config, NegativeNumbersAreRejected) {
  expect_error({"--memory", "-1"}, "--memory: '-1' is not a number from 64 to 524288 (or 0: sized from");
  expect_error({"--mbufs", "-1"}, "--mbufs: '-1' is not a number from 1024 to 134217728 (or 0: sized from");
  expect_error({"--fdb-size", "-5"}, "--fdb-size: '-5' is not a number from 16 to 16777216");
  expect_error({"--fdb-aging", "-1"}, "--fdb-aging: '-1' is not a number from 2 to 1000000 (or 0: never)");
  expect_error({"--fdb-port-limit", "-1"}, "--fdb-port-limit: '-1' is not a number from 1 to 16777216");
  expect_error({"--workers", "-1"}, "--workers: '-1' is not a number from 1 to 64");
  expect_error({"--fdb-size=-5"}, "--fdb-size: '-5' is not a number");
  expect_error({"--fdb-size", "+5"}, "--fdb-size: '+5' is not a number");
  expect_error({"--fdb-size", "4294967301"}, "--fdb-size: '4294967301' is not a number");  // 2^32 + 5
}

TEST(Config, UpperBounds) {
  expect_error({"--fdb-size", "4294967295"}, "--fdb-size: '4294967295' is not a number from 16 to 16777216");
  expect_error({"--memory", "99999999"}, "--memory: '99999999' is not a number");
  expect_error({"--mbufs", "999999999"}, "--mbufs: '999999999' is not a number");
  expect_error({"--fdb-port-limit", "16777217"}, "--fdb-port-limit");
  expect_error({"--workers", "65"}, "--workers: '65' is not a number from 1 to 64");
  const SwitchConfig c = parse({"--memory", std::to_string(kMaxMemoryMb), "--mbufs", std::to_string(kMaxMbufs),
                                "--fdb-size", std::to_string(kMaxFdbSize), "--fdb-port-limit",
                                std::to_string(kMaxFdbSize), "--workers", "64"})
                             .config;
  EXPECT_EQ(c.memory_mb, kMaxMemoryMb);
  EXPECT_EQ(c.mbufs, kMaxMbufs);
  EXPECT_EQ(c.fdb_size, kMaxFdbSize);
  EXPECT_EQ(c.fdb_port_limit, kMaxFdbSize);
  EXPECT_EQ(c.dp.workers, 64u);
  // The help states the same bounds.
  const std::string help = parse({"--help"}).help;
  for (unsigned n : {kMaxMemoryMb, kMaxMbufs, kMaxFdbSize, kMaxFdbAging})
    EXPECT_NE(help.find(std::to_string(n)), std::string::npos) << n;
}

TEST(PortSpec, NoKind) { expect_error({"--port", "vm1"}, "expected KIND:ARGS"); }
TEST(PortSpec, UnknownKind) { expect_error({"--port", "veth:x"}, "unknown port kind 'veth'"); }
TEST(PortSpec, EmptyName) { expect_error({"--port", "tap:"}, "interface name is empty"); }
TEST(PortSpec, NameTooLong) {
  expect_error({"--port", "tap:abcdefghijklmnop"}, "is 16 characters long; interface names have at most 15");
}
TEST(PortSpec, NameOfFifteenIsFine) { EXPECT_EQ(parse({"--port", "tap:abcdefghijklmno"}).config.ports.size(), 1u); }
TEST(PortSpec, BadCharacter) { expect_error({"--port", "tap:a/b"}, "contains the character '/'"); }
TEST(PortSpec, NonAsciiCharacterNamedByByte) {
  expect_error({"--port", "tap:a\xc3\xa9"}, "contains the character \\xc3");  // not half a UTF-8 character
}
TEST(PortSpec, ControlCharacterNamedNotQuoted) {
  // A NUL (possible in `port add`'s JSON, not on a command line) would cut the message short
  // wherever it is printed.
  try {
    parse_port_spec(std::string("link:ab\0cd", 10));
    ADD_FAILURE() << "a spec with a NUL was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "port 'link:ab...': the spec contains the control character \\x00 at byte 7");
  }
}
TEST(PortSpec, NameTemplateRefused) {
  expect_error({"--port", "tap:vm%d"}, "contains '%', which the kernel reads as a name template");
  expect_error({"--port", "link:vm%d"}, "name template");
}
TEST(PortSpec, UnknownTapOption) { expect_error({"--port", "tap:vm1,colour=red"}, "unknown option 'colour'"); }
TEST(PortSpec, OptionWithoutValue) { expect_error({"--port", "tapfd:5,name"}, "not of the form key=value"); }
TEST(PortSpec, OptionTwice) { expect_error({"--port", "tapfd:5,name=a,name=b"}, "given twice"); }
TEST(PortSpec, FdNotANumber) { expect_error({"--port", "tapfd:five"}, "'five' is not a file descriptor number"); }
TEST(PortSpec, FdNegative) { expect_error({"--port", "tapfd:-3"}, "not a file descriptor number"); }
TEST(PortSpec, FdStdio) { expect_error({"--port", "tapfd:1"}, "stdin, stdout or stderr"); }
TEST(PortSpec, LinkTakesQueuesAndRing) {
  expect_error({"--port", "link:vnet0,offload=off"}, "unknown option 'offload' (known: queues, ring)");
  expect_error({"--port", "link:vnet0,queues=0"}, "queues");
  expect_error({"--port", "link:vnet0,ring=no"}, "ring must be on or off");
  EXPECT_EQ(parse_port_spec("link:vnet0,queues=2").queues, 2);
  EXPECT_EQ(parse_port_spec("link:vnet0").queues, 1);
  EXPECT_TRUE(parse_port_spec("link:vnet0").ring);
  EXPECT_FALSE(parse_port_spec("link:vnet0,ring=off").ring);
}
TEST(PortSpec, LinkSameInterfaceAsTap) {
  expect_error({"--port", "tap:vm1", "--port", "link:vm1"}, "a port named 'vm1' is already configured");
}
TEST(PortSpec, DpdkWithoutDevargs) { expect_error({"--port", "dpdk:"}, "expected dpdk:DEVARGS"); }
TEST(PortSpec, DpdkIfaceTooLong) {
  expect_error({"--port", "dpdk:net_tap0,iface=abcdefghijklmnop"}, "iface 'abcdefghijklmnop' is 16 characters");
}

TEST(PortSpec, DuplicateName) { expect_error({"--port", "tap:vm1", "--port", "tap:vm1"}, "a port named 'vm1' is already"); }
TEST(PortSpec, DuplicateAcrossKinds) {
  expect_error({"--port", "tap:vm1", "--port", "dpdk:net_tap0,iface=vm1"}, "'vm1' is already");
}
TEST(PortSpec, DuplicateFd) {
  expect_error({"--port", "tapfd:5,name=a", "--port", "tapfd:5,name=b"}, "fd 5 is already used");
}
TEST(PortSpec, DuplicateDpdkDevice) {
  expect_error({"--port", "dpdk:net_tap0,iface=a", "--port", "dpdk:net_tap0,iface=b"},
               "DPDK device 'net_tap0' is already configured");
}

TEST(ConfigFile, SameKeysAsTheCommandLine) {
  TempFile f(
      "# a comment\n"
      "port = tap:vm1   # trailing comment\n"
      "port = dpdk:net_tap0,iface=vm2\n"
      "log-level = debug\n"
      "ctl = /tmp/x.sock\n"
      "fdb-size = 1024\n"
      "eal = --no-huge -m 256\n");
  ParsedArgs a = parse({"--config", f.path()});
  ASSERT_EQ(a.config.ports.size(), 2u);
  EXPECT_EQ(a.config.ports[0].name, "vm1");
  EXPECT_EQ(a.config.log_level, "debug");
  EXPECT_EQ(a.config.ctl_path, "/tmp/x.sock");
  EXPECT_EQ(a.config.fdb_size, 1024u);
  EXPECT_EQ(a.config.eal, "--no-huge -m 256");
}

TEST(ConfigFile, CommandLineWinsAndPortsAddUp) {
  TempFile f("port = tap:vm1\nlog-level = debug\n");
  ParsedArgs a = parse({"--config", f.path(), "--log-level", "warn", "--port", "tap:vm2"});
  EXPECT_EQ(a.config.log_level, "warn");
  ASSERT_EQ(a.config.ports.size(), 2u);
}

TEST(ConfigFile, Unreadable) { expect_error({"--config", "/nonexistent/x.conf"}, "cannot read '/nonexistent/x.conf'"); }
TEST(ConfigFile, Directory) { expect_error({"--config", "/tmp"}, "--config: '/tmp' is a directory, not a file"); }

TEST(ConfigFile, NegativeNumbers) {
  TempFile f("fdb-size = -5\n");
  expect_error({"--config", f.path()}, "--fdb-size: '-5' is not a number from 16 to 16777216");
  TempFile g("workers = -1\n");
  expect_error({"--config", g.path()}, "--workers: '-1' is not a number from 1 to 64");
}

TEST(ConfigFile, UnknownKey) {
  TempFile f("colour = red\n");
  expect_error({"--config", f.path()}, "unrecognised option 'colour'");
}

// A bad value from the config file says where it is; one the command line overrides does not.
TEST(ConfigFile, ValueErrorsNameTheLine) {
  TempFile f("port = tap:vm1\n\n# sizes\nfdb-size = 10\n");
  expect_error({"--config", f.path()}, "--fdb-size: '10' is not a number from 16 to 16777216 (config file '" +
                                           f.path() + "', line 4)");
  try {
    parse({"--config", f.path(), "--fdb-size", "12"});
    ADD_FAILURE() << "--fdb-size 12 accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--fdb-size: '12' is not a number from 16 to 16777216") << "the file is not to blame";
  }
  EXPECT_EQ(parse({"--config", f.path(), "--fdb-size", "1024"}).config.fdb_size, 1024u);
  TempFile g("port = tap:vm1\nport = tap:vm2\nport = tap:vm1\n");
  expect_error({"--config", g.path()}, "is already configured, as 'tap:vm1' (config file '" + g.path() + "', line 3)");
}

// A UTF-8 byte-order mark (some editors write one) is not part of the first key.
TEST(ConfigFile, ByteOrderMarkIgnored) {
  TempFile f("\xEF\xBB\xBFport = tap:vm1\n");
  ParsedArgs a = parse({"--config", f.path()});
  ASSERT_EQ(a.config.ports.size(), 1u);
  EXPECT_EQ(a.config.ports[0].name, "vm1");
}

// Errors name the line, and a line without '=' says what a line looks like.
TEST(ConfigFile, ErrorsNameTheLine) {
  TempFile f("# ports\nport = tap:vm1\n\n  port tap:vm2   # no '='\n");
  expect_error({"--config", f.path()}, ", line 4: the options configuration file contains an invalid line "
                                       "'port tap:vm2' (a line is `key = value`, e.g. `port = tap:vm1`)");
  TempFile g("port = tap:vm1\ncolour=red\n");
  expect_error({"--config", g.path()}, ", line 2: unrecognised option 'colour'");
  // A key given twice: the second line. A [section] line: that line, not 'sw.fdb-size'.
  TempFile h("port = tap:vm1\nfdb-size = 100\n\nfdb-size = 200\n");
  expect_error({"--config", h.path()}, ", line 4: option 'fdb-size' cannot be specified more than once");
  TempFile k("port = tap:vm1\n[sw]\nfdb-size = 100\n");
  expect_error({"--config", k.path()}, ", line 2: '[sw]': a config file has no sections, only `key = value` lines");
  // An empty value is a bad value like any other.
  TempFile m("port = tap:vm1\nfdb-size =\n");
  expect_error({"--config", m.path()}, "--fdb-size: '' is not a number from 16 to 16777216 (config file '" +
                                           m.path() + "', line 2)");
}

TEST(ConfigFile, BadPortInFile) {
  TempFile f("port = tap:abcdefghijklmnopq\n");
  expect_error({"--config", f.path()}, "at most 15");
}

TEST(ConfigFile, DuplicatePortAcrossFileAndCommandLine) {
  TempFile f("port = tap:vm1\n");
  expect_error({"--config", f.path(), "--port", "tap:vm1"}, "already configured");
}

}  // namespace
}  // namespace tapswitch

namespace tapswitch {
namespace {

TEST(Memory, SizedFromThePortsUnlessGiven) {
  std::vector<std::string> few = {"--port", "tap:a", "--port", "tap:b"};
  EXPECT_EQ(Switch::memory_mb(parse(few).config), 512u) << "a small switch keeps the 512 MB floor";
  std::vector<std::string> many = {"--tap-io", "syscall"};
  std::vector<std::string> automatic;
  for (int i = 0; i < 256; ++i) {
    many.insert(many.end(), {"--port", "tap:t" + std::to_string(i)});
    automatic.insert(automatic.end(), {"--port", "tap:t" + std::to_string(i)});
  }
  const unsigned big = Switch::memory_mb(parse(many).config);
  EXPECT_GT(big, 256u * 3 + 100) << "each raw-fd tap queue needs about 3.3 MB of 64 KB buffers";
  std::vector<std::string> uring = automatic;
  uring.insert(uring.end(), {"--tap-io", "uring"});
  const unsigned with_uring = Switch::memory_mb(parse(uring).config);
  EXPECT_GT(with_uring, big + 256 * 2) << "with io_uring, 31 more 64 KB buffers per queue (about 2 MB)";
  EXPECT_EQ(Switch::memory_mb(parse(automatic).config), with_uring) << "--tap-io auto may choose io_uring";
  many.insert(many.end(), {"--port", "tap:mq,queues=4"});
  EXPECT_GT(Switch::memory_mb(parse(many).config), big);
  std::vector<std::string> table = many;
  table.insert(table.end(), {"--fdb-size", "4000000"});
  EXPECT_EQ(Switch::memory_mb(parse(table).config), Switch::memory_mb(parse(many).config))
      << "the FDB has its own mapping, outside DPDK's memory";
  EXPECT_EQ(Switch::fdb_memory_mb(parse(table).config), 141u) << "2M buckets of 64 B + 4 B of tag + 2 B of overflow";
  EXPECT_EQ(Switch::fdb_memory_mb(parse(few).config), 3u) << "the default 65536 entries";
  few.insert(few.end(), {"--memory", "300"});
  EXPECT_EQ(Switch::memory_mb(parse(few).config), 300u);
}

}  // namespace
}  // namespace tapswitch
