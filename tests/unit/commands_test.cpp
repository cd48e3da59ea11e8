#include <gtest/gtest.h>

#include "base/error.h"
#include "ports/port_spec.h"
#include "switch/commands.h"
#include "switch/config.h"
#include "switch/switch.h"
#include "switch/text_table.h"

namespace tapswitch {
namespace {

TEST(TextTable, AlignsColumns) {
  TextTable t({"NAME", "STATE"});
  t.row({"vm1", "up"});
  t.row({"a-long-name", "down"});
  EXPECT_EQ(t.render(),
            "NAME         STATE\n"
            "vm1          up\n"
            "a-long-name  down\n");
}

TEST(TextTable, EmptyTableHasItsHeader) { EXPECT_EQ(TextTable({"MAC", "PORT"}).render(), "MAC  PORT\n"); }

// The commands' errors, on a switch with one DPDK null port (never started: these commands
// fail before anything reaches the workers).
class SwitchCommands : public ::testing::Test {
 protected:
  static SwitchConfig config() {
    SwitchConfig c;
    c.ports = {parse_port_spec("dpdk:net_null0")};
    c.mbufs = 4096;
    c.fdb_size = 1024;
    return c;
  }
  // The error of a command, as tapswitchctl shows it after "tapswitchctl: ".
  std::string error_of(std::vector<std::string> argv) {
    CtlRequest req;
    req.argv = std::move(argv);
    try {
      commands_.dispatch(req);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  Switch sw_{config()};
  Commands commands_{sw_};
};

TEST_F(SwitchCommands, PortAddOfAnExistingPortQuotesTheNewSpec) {
  EXPECT_EQ(error_of({"port", "add", "tap:net_null0"}),
            "port 'tap:net_null0': a port named 'net_null0' is already configured, as 'dpdk:net_null0'");
  EXPECT_EQ(error_of({"port", "add", "dpdk:net_null0,size=128"}),
            "port 'dpdk:net_null0,size=128': a port named 'net_null0' is already configured, as 'dpdk:net_null0'");
  EXPECT_EQ(sw_.ports().size(), 1u);
}

// fdb add speaks of its own arguments, not of the --fdb-static option.
TEST_F(SwitchCommands, FdbAddErrorsNameTheCommandsArguments) {
  EXPECT_EQ(error_of({"fdb", "add", "02:00:00:00:00:01", "net_null0", "vlan", "4095"}),
            "VLAN '4095' is not a number from 0 to 4094 (4095 is reserved)");
  EXPECT_EQ(error_of({"fdb", "add", "02:00:00:00:01", "net_null0"}),
            "'02:00:00:00:01' is not a MAC address (aa:bb:cc:dd:ee:ff)");
  EXPECT_EQ(error_of({"fdb", "add", "01:00:5e:00:00:01", "net_null0"}),
            "01:00:5e:00:00:01 is a group address; static entries are for unicast MACs");
  EXPECT_EQ(error_of({"fdb", "add", "00:00:00:00:00:00", "net_null0"}), "the all-zero MAC cannot be an entry");
  EXPECT_EQ(error_of({"fdb", "add", "02:00:00:00:00:01", "a,b"}), "no port named 'a,b'");
  EXPECT_EQ(error_of({"fdb", "add", "02:00:00:00:00:01", "net_null0", "10"}), "usage: fdb add MAC PORT [vlan N]");
  EXPECT_EQ(error_of({"fdb", "add", "02:00:00:00:00:01", "net_null0", "vlan", "10"}), "no error");
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01", "vlan", "10"}), "no error");
}

// The first word(s) of longer commands say what may follow; anything else is unknown.
TEST_F(SwitchCommands, FirstWordsOfACommandSayWhatFollows) {
  auto reply = [this](std::vector<std::string> argv) {
    CtlRequest req;
    req.argv = std::move(argv);
    return commands_.dispatch(req);
  };
  CtlReply r = reply({"show"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "'show' needs one of: ports | fdb | workers | stats");
  EXPECT_EQ(reply({"port"}).error, "'port' needs one of: add | del");
  EXPECT_EQ(reply({"shw"}).error, "unknown command 'shw' (try 'help')");
  EXPECT_EQ(reply({"show", "prots"}).error, "unknown command 'show prots' (try 'help')");
}

TEST_F(SwitchCommands, FdbDelOfAMissingEntryNamesItsVlan) {
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01", "vlan", "10"}), "02:00:00:00:00:01 is not in the FDB on VLAN 10");
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01"}), "02:00:00:00:00:01 is not in the FDB on VLAN 0");
  // Present under other VLANs only: the message says which.
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  ASSERT_EQ(sw_.fdb().add_static(FdbKey::make(20, mac), 0), FdbAdd::added);
  ASSERT_EQ(sw_.fdb().add_static(FdbKey::make(10, mac), 0), FdbAdd::added);
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01"}),
            "02:00:00:00:00:01 is not in the FDB on VLAN 0 (it is on VLAN 10, 20: add `vlan N`)");
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01", "vlan"}), "expected 'vlan N': N is missing");
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:01", "vlan", "1", "2"}), "expected 'vlan N': too many words");
}

// Frames tagged with VLAN 4095 (reserved) are forwarded and learned as they come: their entries
// can be deleted and flushed by VLAN, though no static entry can be made in it.
TEST_F(SwitchCommands, Vlan4095EntriesCanBeRemoved) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x95};
  ASSERT_EQ(sw_.fdb().add_static(FdbKey::make(4095, mac), 0), FdbAdd::added);  // stands in for a learned one
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:95", "vlan", "4095"}), "no error");
  ASSERT_EQ(sw_.fdb().add_static(FdbKey::make(4095, mac), 0), FdbAdd::added);
  EXPECT_EQ(error_of({"fdb", "flush", "vlan", "4095", "all"}), "no error");
  EXPECT_EQ(error_of({"fdb", "del", "02:00:00:00:00:95", "vlan", "4095"}), "02:00:00:00:00:95 is not in the FDB on VLAN 4095");
  EXPECT_EQ(error_of({"fdb", "flush", "vlan", "4096"}), "VLAN '4096' is not a number from 0 to 4095");
}

}  // namespace
}  // namespace tapswitch
