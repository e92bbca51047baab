// The RTP continuity core shared by msrelaysrc (through RtpRewriter) and
// msnormalize (through Normalizer): what a restart continues from.
#include <gtest/gtest.h>

#include "rtp_continuity.h"

namespace gms {
namespace {

using P = RtpContinuity::Packet;
constexpr int64_t kMs = 1000000;

TEST(RtpContinuity, FirstStreamPassesUnchanged) {
  RtpContinuity c;
  auto o = c.map(P{100, 1000, 0xA}, false, 0, 90000);
  EXPECT_FALSE(o.changed);
  EXPECT_FALSE(o.restarted);
  o = c.map(P{101, 4000, 0xA}, false, 33 * kMs, 90000);
  EXPECT_FALSE(o.changed);
  EXPECT_EQ(c.ssrc(), 0xAu);
}

TEST(RtpContinuity, RestartContinuesByTheTimeElapsed) {
  RtpContinuity c;
  c.map(P{100, 1000, 0xA}, false, 0, 90000);
  c.map(P{101, 4000, 0xA}, false, 33 * kMs, 90000);
  // A new input 2 s later: one packet and 2 s of ticks after the newest.
  auto o = c.map(P{7, 555, 0xB}, true, 2033 * kMs, 90000);
  EXPECT_TRUE(o.restarted);
  EXPECT_TRUE(o.changed);
  EXPECT_EQ(o.packet.seq, 102);
  EXPECT_EQ(o.packet.ts, 4000u + 180000u);
  EXPECT_EQ(o.packet.ssrc, 0xAu);
  o = c.map(P{8, 3555, 0xB}, false, 2066 * kMs, 90000);
  EXPECT_EQ(o.packet.seq, 103);
  EXPECT_EQ(o.packet.ts, 4000u + 180000u + 3000u);
}

TEST(RtpContinuity, WithoutTimeARestartStepsByTheLastStep) {
  RtpContinuity c;
  c.map(P{1, 0, 0xA}, false, RtpContinuity::kNoTime, 90000);
  c.map(P{2, 3000, 0xA}, false, RtpContinuity::kNoTime, 90000);
  auto o = c.map(P{500, 77, 0xA}, true, RtpContinuity::kNoTime, 90000);
  EXPECT_EQ(o.packet.seq, 3);
  EXPECT_EQ(o.packet.ts, 6000u);
  // No step seen, no clock rate: one tick; wraps stay modular.
  RtpContinuity w;
  w.map(P{65535, 0xffffffffu, 1}, false, RtpContinuity::kNoTime, 0);
  o = w.map(P{10, 10, 2}, true, RtpContinuity::kNoTime, 0);
  EXPECT_EQ(o.packet.seq, 0);
  EXPECT_EQ(o.packet.ts, 0u);
}

TEST(RtpContinuity, ReorderedPacketDoesNotPullTheContinuationBack) {
  RtpContinuity c;
  c.map(P{10, 3000, 0xA}, false, 0, 90000);
  c.map(P{12, 9000, 0xA}, false, 66 * kMs, 90000);
  c.map(P{11, 6000, 0xA}, false, 33 * kMs, 90000);  // late
  auto o = c.map(P{0, 0, 0xB}, true, 66 * kMs, 90000);
  EXPECT_EQ(o.packet.seq, 13);
  EXPECT_GT(o.packet.ts, 9000u);
}

TEST(RtpContinuity, BreaksOnSsrcSeqOrTimestampJumps) {
  RtpContinuity c;
  EXPECT_FALSE(c.breaks(P{1, 0, 0xA}, 90000, 1000 * kMs));  // nothing before it
  c.map(P{1, 0, 0xA}, false, 0, 90000);
  EXPECT_FALSE(c.breaks(P{2, 3000, 0xA}, 90000, 1000 * kMs));
  EXPECT_TRUE(c.breaks(P{2, 3000, 0xB}, 90000, 1000 * kMs));
  EXPECT_TRUE(c.breaks(P{5000, 3000, 0xA}, 90000, 1000 * kMs));
  EXPECT_TRUE(c.breaks(P{65000, 3000, 0xA}, 90000, 1000 * kMs));  // far back
  EXPECT_TRUE(c.breaks(P{2, 180000, 0xA}, 90000, 1000 * kMs));    // 2 s ahead
  EXPECT_FALSE(c.breaks(P{2, 180000, 0xA}, 0, 1000 * kMs));       // rate unknown
}

TEST(RtpContinuity, FixedSsrcFromTheStart) {
  RtpContinuity c;
  c.set_ssrc(0x1234);
  auto o = c.map(P{1, 0, 0xA}, false, 0, 90000);
  EXPECT_TRUE(o.changed);
  EXPECT_EQ(o.packet.ssrc, 0x1234u);
  EXPECT_EQ(o.packet.seq, 1);
}

}  // namespace
}  // namespace gms
