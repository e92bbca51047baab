// AudioTimeline: audio packets placed by their RTP times, steered by
// capture times that arrive late by varying amounts; time never goes back.
#include <gtest/gtest.h>

#include <vector>

#include "record/audio_timeline.h"

namespace gms::record {
namespace {

// ffmpeg's AAC over RTP: 7 frames of 1024 samples at 48 kHz per packet.
constexpr GstClockTime kPacket = 7 * 1024 * GST_SECOND / 48000;

struct Placed {
  GstClockTime media, at;
};

// Feeds `n` packets from media time `first`; `capture(i)` stamps packet i.
template <typename Capture>
std::vector<Placed> feed(AudioTimeline& t, unsigned n, Capture capture, GstClockTime first = 0) {
  std::vector<Placed> out;
  for (unsigned i = 0; i < n; ++i) {
    const GstClockTime media = first + i * kPacket;
    const GstClockTime at = t.place(capture(i, media), media);
    if (GST_CLOCK_TIME_IS_VALID(at))
      out.push_back({media, at});
  }
  return out;
}

// Each packet kept starts no earlier than the one kept before it ends (a
// packet lasts until the next packet's RTP time).
void expect_never_back(const std::vector<Placed>& p) {
  for (size_t i = 1; i < p.size(); ++i)
    EXPECT_GE(p[i].at, p[i - 1].at + kPacket) << "packet " << i;
}

// Late by 0 to 45 ms, a different amount each packet.
GstClockTimeDiff jitter(unsigned i) { return GstClockTimeDiff((i * 37) % 46) * GST_MSECOND; }

TEST(AudioTimeline, JitterIsIgnored) {
  AudioTimeline t;
  const GstClockTime base = 30 * GST_SECOND;
  auto p = feed(t, 500, [&](unsigned i, GstClockTime m) { return base + m + jitter(i); });
  ASSERT_EQ(p.size(), 500u);
  for (const auto& x : p)
    EXPECT_EQ(x.at, base + x.media);  // the first packet came on time
  expect_never_back(p);
}

TEST(AudioTimeline, LateFirstPacketIsCaughtUpByDropping) {
  AudioTimeline t;
  const GstClockTime base = 30 * GST_SECOND;
  auto p = feed(t, 200, [&](unsigned i, GstClockTime m) {
    return base + m + (i == 0 ? 300 * GST_MSECOND : jitter(i));
  });
  expect_never_back(p);
  EXPECT_LT(p.size(), 200u);
  // Back to the earliest packets' time, within kAlign.
  const GstClockTimeDiff late = GST_CLOCK_DIFF(base + p.back().media, p.back().at);
  EXPECT_GE(late, 0);
  EXPECT_LE(late, GstClockTimeDiff(AudioTimeline::kAlign));
}

TEST(AudioTimeline, SlowerSenderClockMovesForward) {
  AudioTimeline t;
  const GstClockTime base = 30 * GST_SECOND;
  // Our clock runs 1 % faster than the sender's: 10 s of audio take 10.1 s.
  auto p = feed(t, 1000, [&](unsigned, GstClockTime m) { return base + m + m / 100; });
  expect_never_back(p);
  ASSERT_EQ(p.size(), 1000u);
  const GstClockTimeDiff off = GST_CLOCK_DIFF(p.back().at, base + p.back().media * 101 / 100);
  EXPECT_GE(off, 0);
  EXPECT_LE(off, GstClockTimeDiff(AudioTimeline::kAlign + 20 * GST_MSECOND));
}

TEST(AudioTimeline, FasterSenderClockDropsAudio) {
  AudioTimeline t;
  const GstClockTime base = 30 * GST_SECOND;
  auto p = feed(t, 1000, [&](unsigned, GstClockTime m) { return base + m - m / 100; });
  expect_never_back(p);
  EXPECT_LT(p.size(), 1000u);
  const GstClockTimeDiff off = GST_CLOCK_DIFF(base + p.back().media * 99 / 100, p.back().at);
  EXPECT_GE(off, 0);
  EXPECT_LE(off, GstClockTimeDiff(AudioTimeline::kAlign + 20 * GST_MSECOND));
}

TEST(AudioTimeline, AGapIsFollowedAtOnce) {
  AudioTimeline t;
  const GstClockTime base = 30 * GST_SECOND;
  // The RTP time goes on, the capture leaps 5 s (a new publisher).
  auto p = feed(t, 100, [&](unsigned i, GstClockTime m) {
    return base + m + (i >= 50 ? 5 * GST_SECOND : 0);
  });
  ASSERT_EQ(p.size(), 100u);
  expect_never_back(p);
  EXPECT_EQ(p[50].at, base + p[50].media + 5 * GST_SECOND);
}

TEST(AudioTimeline, OlderPacketIsDroppedAndNoTimeKeepsNone) {
  AudioTimeline t;
  EXPECT_EQ(t.place(GST_SECOND, 10 * GST_SECOND), GST_SECOND);
  EXPECT_EQ(t.place(GST_SECOND + kPacket, 10 * GST_SECOND + kPacket), GST_SECOND + kPacket);
  EXPECT_EQ(t.place(GST_SECOND + 2 * kPacket, 10 * GST_SECOND), GST_CLOCK_TIME_NONE);
  EXPECT_EQ(t.place(GST_CLOCK_TIME_NONE, 11 * GST_SECOND), GST_CLOCK_TIME_NONE);
  t.reset();
  EXPECT_EQ(t.place(5 * GST_SECOND, 0), 5 * GST_SECOND);  // a new stream
}

}  // namespace
}  // namespace gms::record
