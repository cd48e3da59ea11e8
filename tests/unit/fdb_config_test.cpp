// The FDB's options: --fdb-aging, --fdb-port-limit, --fdb-static, and static entry specs.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "base/error.h"
#include "fdb/fdb.h"
#include "fdb/fdb_static.h"
#include "switch/config.h"
#include "tests/unit/args_util.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/fdb_util.h"

namespace tapswitch {
namespace {

ParsedArgs parse(std::vector<std::string> args) { return test::parse_argv(std::move(args)); }

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(FdbConfig, Defaults) {
  const SwitchConfig c = parse({}).config;
  EXPECT_EQ(c.fdb_size, 65536u);
  EXPECT_EQ(c.fdb_aging, 300u);
  EXPECT_EQ(c.fdb_port_limit, 0u);
  EXPECT_TRUE(c.fdb_static.empty());
  const FdbConfig f;
  EXPECT_EQ(f.capacity, c.fdb_size);
  EXPECT_EQ(f.aging, c.fdb_aging);
}

TEST(FdbConfig, CommandLine) {
  const SwitchConfig c = parse({"--port", "tap:vm1", "--port", "tap:vm2", "--fdb-aging", "0", "--fdb-port-limit", "100", "--fdb-static",
                                "02:00:00:00:00:0a,vm1", "--fdb-static", "02:00:00:00:00:0b,vm2,42"})
                             .config;
  EXPECT_EQ(c.fdb_aging, 0u);
  EXPECT_EQ(c.fdb_port_limit, 100u);
  ASSERT_EQ(c.fdb_static.size(), 2u);
  EXPECT_EQ(c.fdb_static[0].port, "vm1");
  EXPECT_EQ(c.fdb_static[0].mac[5], 0x0a);
  EXPECT_EQ(c.fdb_static[0].vlan, 0);
  EXPECT_EQ(c.fdb_static[1].vlan, 42);
}

TEST(FdbConfig, ConfigFileAndCommandLineStaticsAddUp) {
  char path[] = "/tmp/tapswitch-fdbconf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "fdb-aging = 30\nfdb-static = 02:00:00:00:00:01,vm1\nfdb-static = 02:00:00:00:00:02,vm1,7\n";
  const SwitchConfig c =
      parse({"--config", path, "--port", "tap:vm1", "--port", "tap:vm2", "--fdb-static", "02:00:00:00:00:03,vm2"}).config;
  std::remove(path);
  EXPECT_EQ(c.fdb_aging, 30u);
  EXPECT_EQ(c.fdb_static.size(), 3u);
}

TEST(FdbConfig, Errors) {
  EXPECT_NE(error_of({"--fdb-aging", "1"}).find("--fdb-aging: '1' is not a number from 2 to 1000000 (or 0: never)"),
            std::string::npos);
  EXPECT_NE(error_of({"--fdb-aging", "-1"}).find("--fdb-aging: '-1' is not a number"), std::string::npos);
  EXPECT_NE(error_of({"--fdb-port-limit", "-1"}).find("--fdb-port-limit: '-1' is not a number"), std::string::npos);
  EXPECT_NE(error_of({"--fdb-aging", "2000000"}).find("--fdb-aging"), std::string::npos);
  EXPECT_NE(error_of({"--fdb-port-limit", "x"}).find("fdb-port-limit"), std::string::npos);
  EXPECT_NE(error_of({"--fdb-static", "02:00:00:00:00:0a"}).find("expected MAC,PORT[,VLAN]"), std::string::npos);
  EXPECT_NE(error_of({"--port", "tap:vm1", "--fdb-static", "02:00:00:00:00:0a,vm9"}).find("no port named 'vm9'"),
            std::string::npos);
}

TEST(FdbStaticSpec, Errors) {
  auto err = [](const std::string& s) {
    try {
      parse_fdb_static(s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err("02:00:00:00:0a,vm1").find("is not a MAC address"), std::string::npos);
  EXPECT_NE(err("0g:00:00:00:00:0a,vm1").find("is not a MAC address"), std::string::npos);
  EXPECT_NE(err("01:00:5e:00:00:01,vm1").find("group address"), std::string::npos);
  EXPECT_NE(err("00:00:00:00:00:00,vm1").find("all-zero"), std::string::npos);
  EXPECT_NE(err("02:00:00:00:00:0a,").find("port name is empty"), std::string::npos);
  EXPECT_NE(err("02:00:00:00:00:0a,vm1,4095").find("VLAN '4095'"), std::string::npos);
  EXPECT_NE(err("02:00:00:00:00:0a,vm1,x").find("VLAN 'x'"), std::string::npos);
  EXPECT_NE(err("02:00:00:00:00:0a,vm1,1,2").find("expected MAC,PORT[,VLAN]"), std::string::npos);
  const FdbStaticSpec ok = parse_fdb_static("02-AB-00-00-00-0a,vm1,4094");
  EXPECT_EQ(ok.mac[1], 0xab);
  EXPECT_EQ(ok.vlan, 4094);
}

TEST(FdbStaticSpec, InstallsEntriesOnNamedPorts) {
  Fdb fdb({});
  std::vector<FdbStaticSpec> specs = {parse_fdb_static("02:00:00:00:00:01,b"),
                                      parse_fdb_static("02:00:00:00:00:02,a,9")};
  auto ids = [](const std::string& n) { return n == "a" ? 0 : n == "b" ? 1 : -1; };
  add_static_entries(fdb, specs, ids);
  EXPECT_EQ(test::lookup(fdb, test::key(1)).port, 1);
  EXPECT_EQ(test::lookup(fdb, test::key(2, 9)).port, 0);
  EXPECT_EQ(test::lookup(fdb, test::key(2, 9)).flags, kFdbStatic);
  specs = {parse_fdb_static("02:00:00:00:00:03,nope")};
  EXPECT_THROW(add_static_entries(fdb, specs, ids), Error);
}

}  // namespace
}  // namespace tapswitch
