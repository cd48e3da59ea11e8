#include <gtest/gtest.h>

#include "fdb/fdb_key.h"

namespace tapswitch {
namespace {

TEST(FdbKey, PacksMacAndVlanIntoOneWord) {
  const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  FdbKey k = FdbKey::make(100, mac);
  uint8_t back[6];
  k.mac(back);
  EXPECT_EQ(0, std::memcmp(mac, back, 6));
  EXPECT_EQ(k.vlan(), 100);
  EXPECT_EQ(k.raw >> 60, 0u);
}

TEST(FdbKey, WireLoadIgnoresTheTwoBytesAfterTheMac) {
  const uint8_t frame[8] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xaa, 0xbb};
  EXPECT_EQ(FdbKey::from_wire8(7, frame), FdbKey::make(7, frame));
}

TEST(FdbKey, SameMacOnAnotherVlanIsAnotherKey) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
  EXPECT_NE(FdbKey::make(1, mac).raw, FdbKey::make(2, mac).raw);
  EXPECT_EQ(FdbKey::make(4095 + 1, mac).vlan(), 0);  // only 12 bits of VLAN
}

TEST(FdbEntry, RoundTripsThroughOneWord) {
  FdbEntry e{513, kFdbStatic, 0, 0xdeadbeef};
  FdbEntry back = FdbEntry::unpack(e.pack());
  EXPECT_EQ(back.port, 513);
  EXPECT_EQ(back.flags, kFdbStatic);
  EXPECT_EQ(back.last_seen, 0xdeadbeefu);
}

}  // namespace
}  // namespace tapswitch
