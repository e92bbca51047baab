#include "proxy/reconnect_policy.h"

#include <gtest/gtest.h>

namespace gms::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ReconnectPolicy, DoublesThenRandomWithinCapToTwiceCap) {
  uint32_t r = 0;
  ReconnectPolicy p(seconds(256), [&] { return r; });
  for (int64_t expect : {1, 2, 4, 8, 16, 32, 64, 128})
    EXPECT_EQ(p.next_delay(), milliseconds(expect * 1000));
  r = 0;
  EXPECT_EQ(p.next_delay(), milliseconds(256000));
  r = 255999;
  EXPECT_EQ(p.next_delay(), milliseconds(511999));
  r = 256000;  // wraps into the range
  EXPECT_EQ(p.next_delay(), milliseconds(256000));
}

TEST(ReconnectPolicy, RandomDelaysStayInRange) {
  ReconnectPolicy p(seconds(256));
  for (int i = 0; i < 1000; ++i) {
    auto d = p.next_delay();
    EXPECT_GE(d, milliseconds(1000));
    EXPECT_LT(d, milliseconds(512000));
  }
}

TEST(ReconnectPolicy, ResetStartsAgain) {
  ReconnectPolicy p(seconds(256));
  p.next_delay();
  p.next_delay();
  EXPECT_EQ(p.attempts(), 2u);
  p.reset();
  EXPECT_EQ(p.next_delay(), milliseconds(1000));
}

TEST(ReconnectPolicy, SmallCap) {
  uint32_t r = 3;
  ReconnectPolicy p(seconds(5), [&] { return r; });
  EXPECT_EQ(p.next_delay(), milliseconds(1000));
  EXPECT_EQ(p.next_delay(), milliseconds(2000));
  EXPECT_EQ(p.next_delay(), milliseconds(4000));
  EXPECT_EQ(p.next_delay(), milliseconds(5003));
  for (int i = 0; i < 100; ++i)  // no overflow however long it fails
    EXPECT_LT(p.next_delay(), milliseconds(10000));
}

}  // namespace
}  // namespace gms::proxy
