// The server's reading of segment names, and time-range plans over them.
#include <gtest/gtest.h>

#include "gms/ref.h"
#include "record/range_plan.h"
#include "record/segment_names.h"

namespace gms::record {
namespace {

// 2024-03-05 07:08:09.012345 local time, as the recorder names it.
gint64 when() {
  auto tz = UniquePtr<GTimeZone, g_time_zone_unref>(g_time_zone_new_local());
  auto dt = UniquePtr<GDateTime, g_date_time_unref>(g_date_time_new(tz.get(), 2024, 3, 5, 7, 8, 9));
  return g_date_time_to_unix(dt.get()) * G_USEC_PER_SEC + 12345;
}

TEST(SegmentNames, WallClockFromName) {
  EXPECT_EQ(segment_start_from_name("2024-03-05_07-08-09-012345.mp4"), when());
  EXPECT_EQ(segment_start_from_name("/rec/cam/2024-03-05_07-08-09-012345.mkv"), when());
  EXPECT_EQ(segment_start_from_name("2024-03-05_07-08-09-012345-1.ts"), when());
  EXPECT_FALSE(segment_start_from_name("2024-03-05_07-08-09-0123.mp4"));
  EXPECT_FALSE(segment_start_from_name("2024-03-05_07-08-09-012345x.mp4"));
  EXPECT_FALSE(segment_start_from_name("2024-03-05 07-08-09-012345.mp4"));
  EXPECT_FALSE(segment_start_from_name("+024-03-05_07-08-09-012345.mp4"));
  EXPECT_FALSE(segment_start_from_name("2024-13-45_07-08-09-012345.mp4"));
  EXPECT_FALSE(segment_start_from_name("notes.txt"));
  EXPECT_FALSE(segment_start_from_name(""));
}

constexpr gint64 S = G_USEC_PER_SEC;
constexpr gint64 kNoCap = G_MAXINT64 / 4;

TEST(RangePlan, OverlappingSegmentsInOrder) {
  std::vector<RecordedSegment> segs = {
      {"c", 120 * S, 130 * S}, {"a", 100 * S, 110 * S}, {"b", 110 * S, 120 * S}, {"d", 200 * S, 205 * S}};
  RangePlan p = plan_range(segs, 105 * S, 10 * S, kNoCap);
  EXPECT_EQ(p.files, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.offset_ns, 5000000000u);
  EXPECT_EQ(p.duration_ns, 10000000000u);
  p = plan_range(segs, 90 * S, 15 * S, kNoCap);  // before the first: from its start
  EXPECT_EQ(p.files, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.offset_ns, 0u);
  EXPECT_EQ(p.duration_ns, 5000000000u);
  EXPECT_EQ(plan_range(segs, 110 * S, 10 * S, kNoCap).files, (std::vector<std::string>{"b"}));
  EXPECT_TRUE(plan_range(segs, 140 * S, 50 * S, kNoCap).files.empty());
  EXPECT_TRUE(plan_range({}, 100 * S, 50 * S, kNoCap).files.empty());
  p = plan_range(segs, 100 * S, 30 * S, kNoCap);
  EXPECT_EQ(p.starts_ns, (std::vector<guint64>{0, 10000000000u, 20000000000u}));
  EXPECT_EQ(p.after_gap, (std::vector<char>{0, 0, 0}));
  EXPECT_EQ(p.duration_ns, 30000000000u);
}

TEST(RangePlan, GapsKeptUpToTheCap) {
  std::vector<RecordedSegment> segs = {{"a", 100 * S, 110 * S}, {"b", 115 * S, 125 * S}};
  RangePlan p = plan_range(segs, 105 * S, 100 * S, kNoCap);
  EXPECT_EQ(p.starts_ns, (std::vector<guint64>{0, 15000000000u}));
  EXPECT_EQ(p.after_gap, (std::vector<char>{0, 1}));
  EXPECT_EQ(p.offset_ns, 5000000000u);
  EXPECT_EQ(p.duration_ns, 20000000000u);
  EXPECT_TRUE(p.to_recording_end);
  p = plan_range(segs, 105 * S, 100 * S, 2 * S);
  EXPECT_EQ(p.starts_ns, (std::vector<guint64>{0, 12000000000u}));
  EXPECT_EQ(p.duration_ns, 17000000000u);
  p = plan_range(segs, 112 * S, 100 * S, 2 * S);  // in the gap: from the next file
  EXPECT_EQ(p.files, (std::vector<std::string>{"b"}));
  EXPECT_EQ(p.offset_ns, 0u);
  EXPECT_EQ(p.duration_ns, 10000000000u);
}

}  // namespace
}  // namespace gms::record
