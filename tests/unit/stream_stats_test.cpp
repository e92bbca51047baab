// StreamStats core: counts, rates from running times, gaps, report points.
#include <gtest/gtest.h>

#include "stream_stats.h"

namespace gms {
namespace {

BufferFacts frame(GstClockTime rt, guint64 size, bool key = false, GstClockTime dur = 10 * GST_MSECOND) {
  BufferFacts b;
  b.size = size;
  b.running_time = rt;
  b.duration = dur;
  b.delta_unit = !key;
  b.now_us = 1000 + gint64(rt / 1000);
  return b;
}

TEST(StreamStats, CountsBuffersBytesFramesAndKeyFrames) {
  StreamStats s;
  StatsSettings cfg;
  for (int i = 0; i < 30; i++)
    s.add(frame(i * 10 * GST_MSECOND, 100 + i, i % 10 == 0), cfg);
  auto snap = s.snapshot();
  EXPECT_EQ(snap.buffers, 30u);
  EXPECT_EQ(snap.frames, 30u);
  EXPECT_EQ(snap.key_frames, 3u);
  EXPECT_EQ(snap.bytes, 30u * 100 + 29 * 30 / 2);
  EXPECT_EQ(snap.gaps, 0u);
  EXPECT_EQ(snap.running_time, 290 * GST_MSECOND);
  EXPECT_EQ(snap.last_activity_us, 1000 + 290000);
}

TEST(StreamStats, RatesOverKnownStream) {
  // 1250 bytes every 10 ms = 1 Mbit/s at 100 frames/s.
  StreamStats s;
  StatsSettings cfg;
  cfg.interval = GST_SECOND;
  int reports = 0;
  for (int i = 0; i < 250; i++) {
    if (s.add(frame(i * 10 * GST_MSECOND, 1250), cfg)) {
      reports++;
      auto snap = s.snapshot();
      EXPECT_DOUBLE_EQ(snap.bitrate, 1e6) << "report " << reports;
      EXPECT_DOUBLE_EQ(snap.framerate, 100.0);
      // The crossing buffer is the first of the next window.
      EXPECT_EQ(snap.running_time, GstClockTime(reports) * GST_SECOND);
    }
  }
  EXPECT_EQ(reports, 2);
  auto snap = s.snapshot();
  EXPECT_DOUBLE_EQ(snap.avg_bitrate, 1e6);
  EXPECT_DOUBLE_EQ(snap.avg_framerate, 100.0);
}

TEST(StreamStats, WindowRateFollowsChangesWhileAverageLags) {
  StreamStats s;
  StatsSettings cfg;
  GstClockTime t = 0;
  for (int i = 0; i < 100; i++, t += 10 * GST_MSECOND)
    s.add(frame(t, 1250), cfg);  // 1 Mbit/s during [0, 1 s)
  for (int i = 0; i < 100; i++, t += 10 * GST_MSECOND)
    s.add(frame(t, 2500), cfg);  // 2 Mbit/s during [1 s, 2 s)
  EXPECT_TRUE(s.add(frame(t, 2500), cfg));  // crosses 2 s
  auto snap = s.snapshot();
  EXPECT_DOUBLE_EQ(snap.bitrate, 2e6);
  EXPECT_NEAR(snap.avg_bitrate, (1e6 + 2e6 + 2500 * 8 / 0.01 * 0.01) / 2.01, 1.0);
}

TEST(StreamStats, IntervalZeroNeverReportsAndUsesAverage) {
  StreamStats s;
  StatsSettings cfg;
  cfg.interval = 0;
  for (int i = 0; i < 300; i++)
    EXPECT_FALSE(s.add(frame(i * 10 * GST_MSECOND, 1250), cfg));
  EXPECT_DOUBLE_EQ(s.snapshot().bitrate, 1e6);
}

TEST(StreamStats, LongHoleReportsOnceNotPerMissedInterval) {
  StreamStats s;
  StatsSettings cfg;
  cfg.gap_threshold = 0;
  EXPECT_FALSE(s.add(frame(0, 10), cfg));
  EXPECT_TRUE(s.add(frame(10 * GST_SECOND, 10), cfg));
  EXPECT_FALSE(s.add(frame(10 * GST_SECOND + GST_MSECOND, 10), cfg));
  EXPECT_TRUE(s.add(frame(11 * GST_SECOND, 10), cfg));
}

struct GapCase {
  const char* name;
  GstClockTime threshold;
  GstClockTime second_at;  // running time of the second buffer (first at 0, 10 ms long)
  bool second_discont;
  guint64 gaps;
};

class StreamStatsGaps : public testing::TestWithParam<GapCase> {};

TEST_P(StreamStatsGaps, Counts) {
  const auto& c = GetParam();
  StreamStats s;
  StatsSettings cfg;
  cfg.gap_threshold = c.threshold;
  auto first = frame(0, 10);
  first.discont = true;  // a stream's first buffer: never a gap
  s.add(first, cfg);
  auto second = frame(c.second_at, 10);
  second.discont = c.second_discont;
  s.add(second, cfg);
  EXPECT_EQ(s.snapshot().gaps, c.gaps);
}

INSTANTIATE_TEST_SUITE_P(
    Table, StreamStatsGaps,
    testing::Values(GapCase{"contiguous", GST_SECOND, 10 * GST_MSECOND, false, 0},
                    GapCase{"hole_below_threshold", GST_SECOND, GST_SECOND, false, 0},
                    GapCase{"hole_above_threshold", GST_SECOND, 1100 * GST_MSECOND, false, 1},
                    GapCase{"threshold_off", 0, 100 * GST_SECOND, false, 0},
                    GapCase{"discont", 0, 10 * GST_MSECOND, true, 1},
                    GapCase{"discont_and_hole_count_once", GST_SECOND, 5 * GST_SECOND, true, 1}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(StreamStats, ForgetTimelineMakesNoGapAndRestartsWindows) {
  StreamStats s;
  StatsSettings cfg;
  for (int i = 0; i < 50; i++)
    s.add(frame(GstClockTime(100 + i) * GST_SECOND, 10), cfg);
  s.forget_timeline();
  EXPECT_FALSE(s.add(frame(0, 10), cfg));  // timeline restarted at 0 after a flush
  EXPECT_EQ(s.snapshot().gaps, 0u);
  EXPECT_TRUE(s.add(frame(GST_SECOND, 10), cfg));
}

TEST(StreamStats, UntimedBuffersAreCountedWithoutRates) {
  StreamStats s;
  BufferFacts b;
  b.size = 7;
  EXPECT_FALSE(s.add(b, StatsSettings{}));
  auto snap = s.snapshot();
  EXPECT_EQ(snap.buffers, 1u);
  EXPECT_EQ(snap.bytes, 7u);
  EXPECT_EQ(snap.bitrate, 0.0);
  EXPECT_FALSE(GST_CLOCK_TIME_IS_VALID(snap.running_time));
}

TEST(StreamStats, ResetClearsEverything) {
  StreamStats s;
  s.add(frame(0, 10, true), StatsSettings{});
  s.reset();
  auto snap = s.snapshot();
  EXPECT_EQ(snap.buffers, 0u);
  EXPECT_EQ(snap.key_frames, 0u);
  EXPECT_EQ(snap.last_activity_us, 0);
}

}  // namespace
}  // namespace gms
