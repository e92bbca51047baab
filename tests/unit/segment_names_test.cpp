// The server's reading of segment names and files, and time-range plans
// over them.
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <string>

#include "gms/ref.h"
#include "record/range_plan.h"
#include "record/segment_media.h"
#include "record/segment_names.h"

namespace gms::record {
namespace {

// 2024-03-05 07:08:09.012345 local time, as the recorder names it.
gint64 when() {
  auto tz = UniquePtr<GTimeZone, g_time_zone_unref>(g_time_zone_new_local());
  auto dt = UniquePtr<GDateTime, g_date_time_unref>(g_date_time_new(tz.get(), 2024, 3, 5, 7, 8, 9));
  return g_date_time_to_unix(dt.get()) * G_USEC_PER_SEC + 12345;
}

// An ISO BMFF box: 32-bit size, type, payload.
std::string box(const char* type, const std::string& payload) {
  const size_t n = payload.size() + 8;
  std::string b = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  return b + type + payload;
}

// `data` written to a file named `name` in a new directory; its path.
std::string file_of(const std::string& name, const std::string& data) {
  GCharPtr dir(g_dir_make_tmp("gms-segmedia-XXXXXX", nullptr));
  std::string path = std::string(dir.get()) + "/" + name;
  EXPECT_TRUE(g_file_set_contents(path.c_str(), data.data(), gssize(data.size()), nullptr));
  return path;
}

bool holds_media(const std::string& name, const std::string& data) {
  std::string path = file_of(name, data);
  bool media = segment_holds_media(path, data.size());
  g_unlink(path.c_str());
  return media;
}

TEST(SegmentMedia, Mp4HeaderAloneHoldsNone) {
  const std::string header = box("ftyp", "iso6\0\0\0\0") + box("moov", box("mvhd", std::string(100, '\0')));
  EXPECT_FALSE(holds_media("a.mp4", header));
  EXPECT_FALSE(holds_media("a.mp4", header + box("mdat", "")));  // empty media data
  EXPECT_TRUE(holds_media("a.mp4", header + box("moof", box("mfhd", "12345678"))));
  EXPECT_TRUE(holds_media("a.mp4", header + box("mdat", "frame")));
  // A fragment's header cut by a write in progress still counts.
  EXPECT_TRUE(holds_media("a.mp4", header + box("moof", std::string(200, 'x')).substr(0, 20)));
  // A 64-bit size (1, then 8 bytes after the type).
  std::string large = std::string("\0\0\0\1", 4) + "moov" + std::string("\0\0\0\0\0\0\0\x18", 8) +
                      std::string(8, '\0');
  EXPECT_FALSE(holds_media("a.mp4", box("ftyp", "iso6") + large));
  EXPECT_TRUE(holds_media("a.mp4", box("ftyp", "iso6") + large + box("moof", "")));
  // Not boxes at all: the demuxer is left to say so.
  EXPECT_TRUE(holds_media("a.mp4", std::string("\0\0\0\2junk", 8)));
}

TEST(SegmentMedia, MatroskaWithoutClusterHoldsNone) {
  const std::string header = "\x1a\x45\xdf\xa3 header, tracks";
  EXPECT_FALSE(holds_media("a.mkv", header));
  EXPECT_TRUE(holds_media("a.mkv", header + "\x1f\x43\xb6\x75 cluster"));
}

TEST(SegmentMedia, LargeOrOtherFilesAreNotRead) {
  EXPECT_TRUE(holds_media("a.ts", "G"));
  // A size at the bound is not read (the file itself is small).
  EXPECT_TRUE(segment_holds_media(file_of("b.mp4", box("ftyp", "iso6")), kHeaderOnlyMaxBytes));
  EXPECT_TRUE(segment_holds_media("/nonexistent/c.mp4", 100));
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
