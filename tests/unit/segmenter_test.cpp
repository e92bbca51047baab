// Segmenter, msrecorder's decisions without a pipeline: tables of buffers
// (track, running time, key frame, clock) and what each one gets: dropped,
// waits, or written to a file, with the cuts, the first file's wait for the
// tracks, the wall clock each file is named after and the tracks' shifts.
#include "segmenter.h"

#include <gtest/gtest.h>

// The tables give each step's leading fields only; the rest keep their
// defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <optional>
#include <string>
#include <vector>

namespace gms {
namespace {

using Verdict = Segmenter::Verdict;
using namespace std::chrono_literals;

constexpr GstClockTime ms(gint64 v) { return GstClockTime(v) * GST_MSECOND; }
constexpr gint64 kNowUs = 1'700'000'000'000'000;  // a wall clock at the start of each table

enum Trk { V, A, B };  // video, first audio, second audio (when added)

struct Step {
  Trk track;
  gint64 rt_ms;
  bool key = true;
  gint64 now_ms = 0;  // since the table's start: steady clock and wall clock
  Verdict verdict = Verdict::kWrite;
  int file = 0;                   // written to (for kWrite)
  std::optional<int> opened;      // this buffer makes file N
  bool request_key = false;
  std::optional<gint64> wall_ms;  // of a file it opens, from kNowUs
  std::optional<gint64> rt_out_ms;  // on the run's timeline, when it differs
  std::optional<gint64> meta_ms;    // the buffer's wall-clock meta, from kNowUs
  std::optional<gint64> start_ms;   // its decoding time when earlier
  std::optional<gint64> clock_ms;   // pipeline clock running time now (live)
};

struct Table {
  std::string name;
  std::vector<Trk> tracks;  // which exist (V is video, the others audio)
  bool live = false;
  guint64 segment_ms = 1000;
  std::vector<Step> steps;
};

std::ostream& operator<<(std::ostream& os, const Table& t) { return os << t.name; }

class SegmenterTable : public testing::TestWithParam<Table> {};

TEST_P(SegmenterTable, Decides) {
  const Table& table = GetParam();
  Segmenter s;
  s.set_segment_duration(table.segment_ms * GST_MSECOND);
  s.set_track_wait(2s);
  std::map<Trk, Segmenter::TrackId> ids;
  for (Trk t : table.tracks)
    ids[t] = s.add_track(t == V);
  s.set_live(table.live);
  const auto start = std::chrono::steady_clock::time_point() + 1h;
  std::map<Segmenter::FileId, int> file_index;  // ids as the table counts them
  for (size_t i = 0; i < table.steps.size(); ++i) {
    const Step& st = table.steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    Segmenter::Input in;
    in.rt = ms(st.rt_ms);
    in.start_rt = st.start_ms ? ms(*st.start_ms) : in.rt;
    in.key = st.key;
    if (st.meta_ms)
      in.wall_ns = GstClockTime(kNowUs * 1000 + *st.meta_ms * gint64(GST_MSECOND));
    in.clock_rt = st.clock_ms ? ms(*st.clock_ms) : GST_CLOCK_TIME_NONE;
    in.now_us = kNowUs + st.now_ms * 1000;
    in.now = start + std::chrono::milliseconds(st.now_ms);
    const auto d = s.push(ids.at(st.track), in);
    EXPECT_EQ(int(d.verdict), int(st.verdict));
    EXPECT_EQ(d.opened.has_value(), st.opened.has_value());
    if (d.opened && st.opened) {
      const int index = int(file_index.size());
      file_index[d.opened->id] = index;
      EXPECT_EQ(index, *st.opened);
      if (st.wall_ms) {
        EXPECT_EQ(d.opened->wall_us, kNowUs + *st.wall_ms * 1000);
      }
    }
    EXPECT_EQ(d.request_key, st.request_key);
    if (d.verdict == Verdict::kWrite) {
      EXPECT_EQ(file_index.at(d.file), st.file);
      EXPECT_EQ(d.rt, ms(st.rt_out_ms.value_or(st.rt_ms)));
    }
    if (d.verdict == Verdict::kWait) {
      EXPECT_EQ(d.wait_until, start + 2s);
    }
  }
}

// Steps are {track, running time (ms), key, now (ms), verdict, file, opened,
// request_key, wall (ms), rt on the run's timeline, meta, decoding time, clock}.
const Table kTables[] = {
    {"VideoCutsAtTheFirstKeyFrameWhenDue",
     {V},
     false,
     1000,
     {
         {V, 0, true, 0, Verdict::kWrite, 0, 0, false, 0},
         {V, 500, false, 0, Verdict::kWrite, 0},
         {V, 1000, false, 0, Verdict::kWrite, 0, {}, true},  // due: asks for a key frame once
         {V, 1033, false, 0, Verdict::kWrite, 0},
         {V, 1333, true, 0, Verdict::kWrite, 1, 1, false, 1333},  // not live: spaced by running time
         {V, 2000, true, 0, Verdict::kWrite, 1},                   // 667 ms in: not due
         {V, 2400, true, 0, Verdict::kWrite, 2, 2, false, 2400},
     }},
    {"VideoBeforeItsFirstKeyFrameIsDropped",
     {V},
     false,
     1000,
     {
         {V, 0, false, 0, Verdict::kDrop},
         {V, 33, false, 0, Verdict::kDrop},
         {V, 66, true, 0, Verdict::kWrite, 0, 0},
     }},
    {"AudioFollowsTheVideoCutByRunningTime",
     {V, A},
     false,
     1000,
     {
         {V, 0, true, 0, Verdict::kWait},  // waits for the audio's first buffer
         {A, 5, true, 0, Verdict::kWrite, 0, 0},  // not live: the first buffer after the wait opens
         {V, 0, true, 0, Verdict::kWrite, 0},  // asked again after the wait: the file it awaited
         {V, 40, false, 0, Verdict::kWrite, 0},
         {V, 1200, true, 0, Verdict::kWrite, 1, 1},
         {A, 1190, true, 0, Verdict::kWrite, 0},  // before the cut: still the old file
         {A, 1210, true, 0, Verdict::kWrite, 1},
         {A, 1195, true, 0, Verdict::kDrop},  // never back into an older file: before this one's 0
     }},
    {"LiveAudioBeforeTheVideoKeyFrameIsDropped",
     {V, A},
     true,
     1000,
     {
         {A, 0, true, 0, Verdict::kWait},
         {V, 10, false, 0, Verdict::kDrop},  // seen, but no key frame: the audio may go on
         {A, 0, true, 0, Verdict::kDrop},    // live: the video's key frame opens the file
         {V, 40, true, 0, Verdict::kWrite, 0, 0},
         {A, 20, true, 0, Verdict::kDrop},  // before the file's 0
         {A, 45, true, 0, Verdict::kWrite, 0},
     }},
    {"AudioOnlyCutsOnTime",
     {A, B},
     false,
     1000,
     {
         {A, 0, true, 0, Verdict::kWait},
         {B, 0, true, 0, Verdict::kWrite, 0, 0},
         {A, 0, true, 0, Verdict::kWrite, 0},
         {B, 1000, true, 0, Verdict::kWrite, 0},  // B follows: only the first audio track cuts
         {A, 1000, true, 0, Verdict::kWrite, 1, 1},
         {B, 1020, true, 0, Verdict::kWrite, 1},
     }},
    {"SilentTrackIsLeftOutAfterTheTrackWait",
     {V, A},
     false,
     1000,
     {
         {V, 0, true, 0, Verdict::kWait},
         {V, 0, true, 1999, Verdict::kWait},
         {V, 0, true, 2000, Verdict::kWrite, 0, 0, false, 2000},
         {A, 500, true, 2500, Verdict::kWrite, 0},  // now in the segmenter's files; the glue has no pad for it
     }},
    {"WallClockFromTheMetaOfTheOpeningFrame",
     {V},
     true,
     1000,
     {
         // Shown at 100 ms, decoded at 60: its meta (live 300 ms before
         // now) dates the file's 0 40 ms earlier.
         {V, 100, true, 0, Verdict::kWrite, 0, 0, false, -340, {}, -300, 60, 5000},
     }},
    {"WallClockFromTheSmallestLatenessWhenLive",
     {V},
     true,
     1000,
     {
         {V, 4000, true, 0, Verdict::kWrite, 0, 0, false, 0, {}, {}, {}, 4020},
         {V, 4500, false, 0, Verdict::kWrite, 0, {}, false, {}, {}, {}, {}, 4520},
         {V, 4900, false, 0, Verdict::kWrite, 0, {}, false, {}, {}, {}, {}, 5000},
         // The clock says 5.2 s now: running time 5 s was captured 0.2 s
         // ago, plus the smallest lateness over the segment (20 ms).
         {V, 5000, true, 0, Verdict::kWrite, 1, 1, false, -200 + 20, {}, {}, {}, 5200},
     }},
    {"TracksOnTheTimelineOfTheFirstFilesTrack",
     {V, A},
     true,
     1000,
     {
         // The video's running time 0 was live at -2 s, the audio's at
         // -1.5 s: the audio's running times move 500 ms on.
         {V, 1000, true, 0, Verdict::kWait, 0, {}, false, {}, {}, -1000},
         // The audio's first buffer opens the file the video awaited (named
         // by the video's meta) and, moved to 510 ms, falls before its 0.
         {A, 10, true, 0, Verdict::kDrop, 0, 0, false, -1000, {}, -1490, {}, 2000},
         {A, 520, true, 0, Verdict::kWrite, 0, {}, false, {}, 1020, -980},
         {V, 1000, true, 0, Verdict::kWrite, 0, {}, false, {}, {}, -1000},
     }},
};

INSTANTIATE_TEST_SUITE_P(Tables, SegmenterTable, testing::ValuesIn(kTables),
                         [](const testing::TestParamInfo<Table>& info) { return info.param.name; });

TEST(Segmenter, EndOfStreamEndsEveryFileAndFinishesTheRun) {
  Segmenter s;
  s.set_segment_duration(GST_SECOND);
  const auto v = s.add_track(true);
  Segmenter::Input in;
  in.now = std::chrono::steady_clock::now();
  s.set_live(false);
  auto d = s.push(v, in);
  ASSERT_TRUE(d.opened);
  in.rt = ms(1500);
  d = s.push(v, in);
  ASSERT_TRUE(d.opened);
  // Moving on ends the video in the first file.
  ASSERT_EQ(d.ends.size(), 1u);
  EXPECT_EQ(d.ends[0].file, 0u);
  EXPECT_TRUE(d.ends[0].own);
  EXPECT_EQ(s.file_end(0), ms(1500));
  const auto ends = s.end_of_stream(v);
  ASSERT_EQ(ends.size(), 2u);  // both files are still in use
  EXPECT_FALSE(s.all_done());
  s.finished(0);
  s.finished(1);
  EXPECT_TRUE(s.all_done());
}

TEST(Segmenter, StoppingOrFlushingEndsTheWait) {
  Segmenter s;
  const auto v = s.add_track(true);
  s.add_track(false);
  s.set_live(true);
  Segmenter::Input in;
  in.now = std::chrono::steady_clock::now();
  EXPECT_EQ(s.push(v, in).verdict, Verdict::kWait);
  s.set_flushing(v, true);
  EXPECT_EQ(s.push(v, in).verdict, Verdict::kDrop);
  s.set_flushing(v, false);
  s.set_stopping(true);
  EXPECT_EQ(s.push(v, in).verdict, Verdict::kDrop);
}

TEST(Segmenter, ResetStartsANewRun) {
  Segmenter s;
  const auto v = s.add_track(true);
  s.set_live(false);
  Segmenter::Input in;
  ASSERT_TRUE(s.push(v, in).opened);
  s.reset();
  EXPECT_FALSE(s.live_known());
  s.set_live(false);
  in.rt = ms(50);
  in.key = false;
  EXPECT_EQ(s.push(v, in).verdict, Verdict::kDrop);  // waits for a key frame again
  in.key = true;
  EXPECT_TRUE(s.push(v, in).opened);
}

}  // namespace
}  // namespace gms
