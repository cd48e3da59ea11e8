#include <gtest/gtest.h>

#include "switch/frame.h"
#include "tests/unit/frames.h"

namespace tapswitch::test {
namespace {

using Frame = MbufPtr;

TEST(Classify, UnicastFromUnicastIsLearnableAndNotFlooded) {
  Frame f(make_frame(mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01")));
  FrameClass c = classify(f.m);
  EXPECT_FALSE(c.dst_group);
  EXPECT_TRUE(c.src_learnable);
  EXPECT_EQ(c.vlan, 0);
}

TEST(Classify, BroadcastAndMulticastDestinationsAreGroup) {
  Frame b(make_frame(kBroadcast, mac("02:00:00:00:00:01")));
  Frame m4(make_frame(mac("01:00:5e:00:00:01"), mac("02:00:00:00:00:01")));
  Frame m6(make_frame(mac("33:33:00:00:00:01"), mac("02:00:00:00:00:01")));
  EXPECT_TRUE(classify(b.m).dst_group);
  EXPECT_TRUE(classify(m4.m).dst_group);
  EXPECT_TRUE(classify(m6.m).dst_group);
}

TEST(Classify, MulticastBroadcastAndZeroSourcesAreNotLearnable) {
  Frame mc(make_frame(mac("02:00:00:00:00:02"), mac("01:00:5e:00:00:01")));
  Frame bc(make_frame(mac("02:00:00:00:00:02"), kBroadcast));
  Frame zero(make_frame(mac("02:00:00:00:00:02"), mac("00:00:00:00:00:00")));
  EXPECT_FALSE(classify(mc.m).src_learnable);
  EXPECT_FALSE(classify(bc.m).src_learnable);
  EXPECT_FALSE(classify(zero.m).src_learnable);
}

TEST(Classify, LocallyAdministeredAndOuiSourcesAreLearnable) {
  Frame a(make_frame(kBroadcast, mac("00:00:00:00:00:01")));
  Frame b(make_frame(kBroadcast, mac("52:54:00:12:34:56")));
  EXPECT_TRUE(classify(a.m).src_learnable);
  EXPECT_TRUE(classify(b.m).src_learnable);
}

TEST(Classify, VlanTagGivesTheVlan) {
  Frame tagged(make_frame(kBroadcast, mac("02:00:00:00:00:01"), 64, 100));
  Frame prio(make_frame(kBroadcast, mac("02:00:00:00:00:01"), 64, 0));
  Frame high(make_frame(kBroadcast, mac("02:00:00:00:00:01"), 64, 4094));
  EXPECT_EQ(classify(tagged.m).vlan, 100);
  EXPECT_EQ(classify(prio.m).vlan, 0);
  EXPECT_EQ(classify(high.m).vlan, 4094);
}

TEST(Classify, StrippedVlanComesFromTheMbuf) {
  Frame f(make_frame(kBroadcast, mac("02:00:00:00:00:01")));
  f.m->ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED;
  f.m->vlan_tci = 0x2000 | 42;  // priority bits are not part of the VLAN id
  EXPECT_EQ(classify(f.m).vlan, 42);
}

TEST(Classify, ShortTaggedFrameIsUntagged) {
  // 16 bytes: an 0x8100 ethertype without room for a full tag is not read as a tag.
  Frame f(make_raw({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x05}));
  EXPECT_EQ(classify(f.m).vlan, 0);
}

}  // namespace
}  // namespace tapswitch::test

namespace tapswitch::test {
namespace {

TEST(Classify, LinkLocalGroupAddressesAreFilteredButStpIsNot) {
  struct Case {
    const char* dst;
    bool filtered;
  } cases[] = {{"01:80:c2:00:00:00", false},  // STP bridge group address: forwarded
               {"01:80:c2:00:00:01", true},   // pause
               {"01:80:c2:00:00:02", true},   // LACP
               {"01:80:c2:00:00:03", true},   // 802.1X
               {"01:80:c2:00:00:0e", true},   // LLDP
               {"01:80:c2:00:00:0f", true},
               {"01:80:c2:00:00:10", false},  // outside the reserved block
               {"01:00:5e:00:00:01", false}};
  for (const auto& c : cases) {
    Frame f(make_frame(mac(c.dst), mac("02:00:00:00:00:01")));
    EXPECT_EQ(classify(f.m).dst_link_local, c.filtered) << c.dst;
    EXPECT_TRUE(classify(f.m).dst_group) << c.dst;
  }
}

}  // namespace
}  // namespace tapswitch::test
