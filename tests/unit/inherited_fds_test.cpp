// base/inherited_fds: only the fds open when record() ran are on offer, each once; a refused
// adoption leaves the fd as it was (the caller never calls adopted()).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "base/inherited_fds.h"

namespace tapswitch {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(InheritedFds, OnlyWhatWasOpenAtRecordIsOnOfferOnce) {
  const int inherited = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(inherited, 0);
  inherited_fds::record();
  const int own = ::open("/dev/null", O_RDONLY);  // opened later: one of "the switch's own"
  ASSERT_GE(own, 0);

  EXPECT_EQ(inherited_fds::unavailable(inherited), "");
  EXPECT_NE(inherited_fds::unavailable(own).find("one of the switch's own"), std::string::npos)
      << inherited_fds::unavailable(own);
  EXPECT_NE(inherited_fds::unavailable(987).find("is not open"), std::string::npos);
  EXPECT_TRUE(is_open(own)) << "asking about an fd leaves it alone";

  inherited_fds::adopted(own);  // not on offer: nothing happens to it
  EXPECT_TRUE(is_open(own));

  inherited_fds::adopted(inherited);  // the port is in place: the original is closed, once
  EXPECT_FALSE(is_open(inherited));
  EXPECT_NE(inherited_fds::unavailable(inherited).find("adopted by a port already"), std::string::npos);
  ::close(own);
  inherited_fds::record();  // afresh for whatever runs next in this process
}

}  // namespace
}  // namespace tapswitch
