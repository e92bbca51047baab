// Normalizer core: restarts, jumps, wraps, multi-track groups (table-driven),
// and the NormalizerGroup registry.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "normalizer.h"
#include "normalizer_group.h"

namespace gms {
namespace {

constexpr GstClockTime NONE = GST_CLOCK_TIME_NONE;
constexpr GstClockTime ms(gint64 v) { return GstClockTime(v) * GST_MSECOND; }
constexpr gint64 X = -1;  // "no timestamp" in the tables below
constexpr gint64 F = -2;  // as pts: a step that only flushes (no buffer)

GstClockTime t_or_none(gint64 v) { return v < 0 ? NONE : ms(v); }

// One buffer in and what must come out. Times in ms; X = none.
struct Step {
  int track;  // index into the case's tracks
  gint64 pts, dts, dur;
  gint64 out_pts, out_dts;
  bool discont;
  gint64 now = X;  // wall clock (ms), wallclock mode only
  const char* flush = nullptr;  // "reset" / "keep": flush this track before the buffer
};

struct Case {
  const char* name;
  int tracks;
  GstClockTime max_jump;
  bool wallclock;
  std::vector<Step> steps;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class NormalizerTable : public testing::TestWithParam<Case> {};

TEST_P(NormalizerTable, Maps) {
  const Case& c = GetParam();
  Normalizer n;
  std::vector<Normalizer::TrackId> ids;
  for (int i = 0; i < c.tracks; i++)
    ids.push_back(n.add_track());
  NormalizerSettings s;
  s.max_jump = c.max_jump;
  s.wallclock = c.wallclock;
  int i = 0;
  for (const Step& st : c.steps) {
    SCOPED_TRACE(testing::Message() << "step " << i++ << " track " << st.track << " pts " << st.pts
                                    << " dts " << st.dts);
    if (st.flush)
      n.flush(ids[st.track], std::string(st.flush) == "reset");
    if (st.pts == F)
      continue;
    TimestampIn in;
    in.pts = t_or_none(st.pts);
    in.dts = t_or_none(st.dts);
    in.duration = t_or_none(st.dur);
    in.now = t_or_none(st.now);
    Decision d = n.push(ids[st.track], in, s);
    EXPECT_EQ(d.pts, t_or_none(st.out_pts));
    EXPECT_EQ(d.dts, t_or_none(st.out_dts));
    EXPECT_EQ(d.discont, st.discont);
    EXPECT_FALSE(d.rtp.has_value());
  }
}

const GstClockTime S = GST_SECOND;

INSTANTIATE_TEST_SUITE_P(
    SingleTrack, NormalizerTable,
    testing::Values(
        Case{"continuous", 1, S, false,
             {{0, 0, 0, 40, 0, 0, false}, {0, 40, 40, 40, 40, 40, false}, {0, 80, 80, 40, 80, 80, false}}},
        Case{"first_buffer_keeps_its_time", 1, S, false,
             {{0, 5000, 5000, 40, 5000, 5000, false}, {0, 5040, 5040, 40, 5040, 5040, false}}},
        Case{"restart_from_zero_continues",
             1,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false},
              {0, 40, 40, 40, 40, 40, false},
              {0, 80, 80, 40, 80, 80, false},
              {0, 0, 0, 40, 120, 120, true},  // source restarted with new timestamps
              {0, 40, 40, 40, 160, 160, false}}},
        Case{"restart_with_random_base",
             1,
             S,
             false,
             {{0, 1000, 1000, 40, 1000, 1000, false},
              {0, 1040, 1040, 40, 1040, 1040, false},
              {0, 987654321, 987654321, 40, 1080, 1080, true},
              {0, 987654361, 987654361, 40, 1120, 1120, false}}},
        Case{"backward_jump",
             1,
             S,
             false,
             {{0, 10000, 10000, 40, 10000, 10000, false},
              {0, 10040, 10040, 40, 10040, 10040, false},
              {0, 3000, 3000, 40, 10080, 10080, true},
              {0, 3040, 3040, 40, 10120, 10120, false}}},
        Case{"forward_leap",
             1,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false}, {0, 40, 40, 40, 40, 40, false}, {0, 60000, 60000, 40, 80, 80, true},
              {0, 60040, 60040, 40, 120, 120, false}}},
        Case{"hole_below_max_jump_is_kept",
             1,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false}, {0, 40, 40, 40, 40, 40, false}, {0, 900, 900, 40, 900, 900, false}}},
        Case{"custom_max_jump",
             1,
             ms(100),
             false,
             {{0, 0, 0, 40, 0, 0, false}, {0, 40, 40, 40, 40, 40, false}, {0, 300, 300, 40, 80, 80, true}}},
        Case{"frame_estimate_without_duration",
             1,
             S,
             false,
             {{0, 0, 0, X, 0, 0, false},
              {0, 33, 33, X, 33, 33, false},
              {0, 66, 66, X, 66, 66, false},
              {0, 50000, 50000, X, 99, 99, true}}},
        Case{"small_backward_dts_is_clamped",
             1,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false}, {0, 80, 80, 40, 80, 80, false}, {0, 60, 60, 40, 80, 80, false},
              {0, 120, 120, 40, 120, 120, false}}},
        Case{"missing_dts_uses_pts",
             1,
             S,
             false,
             {{0, 0, X, 40, 0, X, false},
              {0, 40, X, 40, 40, X, false},
              {0, 7000, X, 40, 80, X, true},
              {0, 7040, X, 40, 120, X, false}}},
        Case{"pts_only_reordering_is_kept",
             1,
             S,
             false,
             {{0, 0, X, 40, 0, X, false},
              {0, 120, X, 40, 120, X, false},
              {0, 40, X, 40, 40, X, false},
              {0, 80, X, 40, 80, X, false}}},
        Case{"b_frames_restart_after_latest_pts",
             1,
             S,
             false,
             {{0, 80, 0, 40, 80, 0, false},
              {0, 160, 40, 40, 160, 40, false},
              {0, 120, 80, 40, 120, 80, false},
              // latest output end = 160 + 40: the new DTS starts there, PTS keeps its lead
              {0, 5080, 5000, 40, 280, 200, true}}},
        Case{"untimed_buffers_pass_unchanged",
             1,
             S,
             false,
             {{0, X, X, X, X, X, false}, {0, 500, 500, 40, 500, 500, false}, {0, X, X, X, X, X, false},
              {0, 540, 540, 40, 540, 540, false}}},
        Case{"flush_with_reset_time_starts_afresh",
             1,
             S,
             false,
             {{0, 9000, 9000, 40, 9000, 9000, false},
              {0, 9040, 9040, 40, 9040, 9040, false},
              {0, 0, 0, 40, 0, 0, false, X, "reset"}}},
        Case{"flush_without_reset_continues",
             1,
             S,
             false,
             {{0, 9000, 9000, 40, 9000, 9000, false},
              {0, 9040, 9040, 40, 9040, 9040, false},
              {0, 0, 0, 40, 9080, 9080, true, X, "keep"}}},
        Case{"flush_continuous_input_keeps_mapping",
             1,
             S,
             false,
             {{0, 9000, 9000, 40, 9000, 9000, false},
              {0, 9040, 9040, 40, 9040, 9040, false},
              {0, 9080, 9080, 40, 9080, 9080, false, X, "keep"}}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Wallclock, NormalizerTable,
    testing::Values(
        Case{"outage_leaves_a_wall_clock_hole",
             1,
             S,
             true,
             {{0, 0, 0, 40, 0, 0, false, 100000},
              {0, 40, 40, 40, 40, 40, false, 100040},
              {0, 0, 0, 40, 5000, 5000, true, 105000},  // restarted 5 s later
              {0, 40, 40, 40, 5040, 5040, false, 105040}}},
        Case{"wall_clock_behind_output_still_continues",
             1,
             S,
             true,
             {{0, 0, 0, 40, 0, 0, false, 100000},
              {0, 40, 40, 40, 40, 40, false, 100000},
              {0, 9000, 9000, 40, 80, 80, true, 100010}}},
        Case{"same_outage_without_wallclock_is_compressed",
             1,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false, 100000},
              {0, 40, 40, 40, 40, 40, false, 100040},
              {0, 0, 0, 40, 80, 80, true, 105000}}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Groups, NormalizerTable,
    testing::Values(
        Case{"two_tracks_restart_together_keep_relative_timing",
             2,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false},
              {1, 0, 0, 20, 0, 0, false},
              {1, 20, 20, 20, 20, 20, false},
              {0, 40, 40, 40, 40, 40, false},
              {1, 40, 40, 20, 40, 40, false},
              {1, 60, 60, 20, 60, 60, false},
              // restart: both tracks' times now start at 500000
              {0, 500000, 500000, 40, 80, 80, true},
              {1, 500000, 500000, 20, 80, 80, true},  // follows track 0's anchor
              {1, 500020, 500020, 20, 100, 100, false},
              {0, 500040, 500040, 40, 120, 120, false},
              {1, 500040, 500040, 20, 120, 120, false}}},
        Case{"follower_with_slightly_earlier_new_base",
             2,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false},
              {1, 0, 0, 20, 0, 0, false},
              {0, 40, 40, 40, 40, 40, false},
              {1, 20, 20, 20, 20, 20, false},
              {0, 70000, 70000, 40, 80, 80, true},
              {1, 69980, 69980, 20, 60, 60, true},  // 20 ms before video, as in the source
              {1, 70000, 70000, 20, 80, 80, false}}},
        Case{"one_track_leaps_alone_and_stays_in_step",
             2,
             S,
             false,
             {{0, 0, 0, 40, 0, 0, false},
              {1, 0, 0, 500, 0, 0, false},
              {1, 500, 500, 500, 500, 500, false},
              {1, 1000, 1000, 500, 1000, 1000, false},
              {1, 1500, 1500, 500, 1500, 1500, false},
              {1, 2000, 2000, 500, 2000, 2000, false},
              // video lost 1.96 s; it resumes right after the audio's latest end
              {0, 2000, 2000, 40, 2500, 2500, true},
              {1, 2500, 2500, 500, 2500, 2500, false}}},
        Case{"late_track_joins_the_timeline",
             2,
             S,
             false,
             {{0, 7000, 7000, 40, 7000, 7000, false},
              {0, 7040, 7040, 40, 7040, 7040, false},
              {0, 7080, 7080, 40, 7080, 7080, false},
              {1, 7050, 7050, 20, 7050, 7050, false}}},
        Case{"late_track_on_another_base_is_anchored_after_the_group",
             2,
             S,
             false,
             {{0, 7000, 7000, 40, 7000, 7000, false},
              {0, 7040, 7040, 40, 7040, 7040, false},
              {1, 0, 0, 20, 7080, 7080, true}}},
        Case{"flush_of_one_track_does_not_reset_the_group",
             2,
             S,
             false,
             {{0, 9000, 9000, 40, 9000, 9000, false},
              {1, 9000, 9000, 40, 9000, 9000, false},
              {0, 0, 0, 40, 9040, 9040, true, X, "reset"},  // track 1 still plays
              {1, 9040, 9040, 40, 9040, 9040, false}}},
        Case{"flush_of_all_tracks_with_reset_time_starts_afresh",
             2,
             S,
             false,
             {{0, 9000, 9000, 40, 9000, 9000, false},
              {1, 9000, 9000, 40, 9000, 9000, false},
              {0, F, X, X, X, X, false, X, "reset"},  // a flushing seek flushes both first
              {1, F, X, X, X, X, false, X, "reset"},
              {0, 0, 0, 40, 0, 0, false},
              {1, 0, 0, 40, 0, 0, false}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Normalizer, RebuiltSourceInAKeptGroupNeverGoesBack) {
  Normalizer n;
  NormalizerSettings s;
  auto a = n.add_track();
  TimestampIn in;
  for (int i = 0; i < 100; i++) {
    in.pts = in.dts = ms(3000 + 40 * i);
    in.duration = ms(40);
    n.push(a, in, s);
  }
  n.remove_track(a);
  // The rebuilt pipeline's running time starts near 0 again.
  auto b = n.add_track();
  in.pts = in.dts = ms(200);
  Decision d = n.push(b, in, s);
  EXPECT_EQ(d.dts, ms(3000 + 40 * 100));
  EXPECT_TRUE(d.discont);
}

// RTP: seq/ts/ssrc rewriting.
struct RtpStep {
  guint16 seq;
  guint32 ts;
  guint32 ssrc;
  gint64 pts;  // ms, X = none
  guint16 out_seq;
  guint32 out_ts;
  bool discont;
};
struct RtpCase {
  const char* name;
  guint32 clock_rate;
  std::vector<RtpStep> steps;
};
void PrintTo(const RtpCase& c, std::ostream* os) { *os << c.name; }

class NormalizerRtp : public testing::TestWithParam<RtpCase> {};

TEST_P(NormalizerRtp, Rewrites) {
  const RtpCase& c = GetParam();
  Normalizer n;
  auto id = n.add_track();
  NormalizerSettings s;
  guint32 first_ssrc = c.steps.front().ssrc;
  int i = 0;
  for (const auto& st : c.steps) {
    SCOPED_TRACE(testing::Message() << "step " << i++);
    TimestampIn in;
    in.pts = t_or_none(st.pts);
    RtpIn r{st.seq, st.ts, st.ssrc, c.clock_rate};
    Decision d = n.push(id, in, s, &r);
    ASSERT_TRUE(d.rtp.has_value());
    EXPECT_EQ(d.rtp->seq, st.out_seq);
    EXPECT_EQ(d.rtp->ts, st.out_ts);
    EXPECT_EQ(d.rtp->ssrc, first_ssrc);
    EXPECT_EQ(d.discont, st.discont);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizerRtp,
    testing::Values(
        RtpCase{"continuous_keeps_numbers",
                90000,
                {{100, 9000, 0xAA, 0, 100, 9000, false},
                 {101, 12000, 0xAA, 33, 101, 12000, false},
                 {102, 12000, 0xAA, 33, 102, 12000, false}}},
        RtpCase{"seq_and_ts_wrap_pass_through",
                90000,
                {{65534, 4294964296u, 0xAA, 0, 65534, 4294964296u, false},
                 {65535, 4294967295u, 0xAA, 11, 65535, 4294967295u, false},
                 {0, 2704, 0xAA, 41, 0, 2704, false},  // both wrapped: still continuous
                 {1, 5704, 0xAA, 74, 1, 5704, false}}},
        RtpCase{"restart_with_new_ssrc_continues_numbering",
                90000,
                {{500, 90000, 0xAA, 1000, 500, 90000, false},
                 {501, 93000, 0xAA, 1033, 501, 93000, false},
                 // new SSRC, random seq and ts; PTS (arrival) advanced 40 ms = 3600 ticks
                 {31000, 7777777, 0xBB, 1073, 502, 96600, true},
                 {31001, 7780777, 0xBB, 1106, 503, 99600, false}}},
        RtpCase{"seq_jump_same_ssrc_is_a_restart",
                90000,
                {{10, 0, 0xAA, 0, 10, 0, false},
                 {11, 3000, 0xAA, 33, 11, 3000, false},
                 {20000, 6000, 0xAA, 66, 12, 5970, true}}},
        RtpCase{"ts_jump_same_ssrc_is_a_restart",
                90000,
                {{10, 0, 0xAA, 0, 10, 0, false},
                 {11, 3000, 0xAA, 33, 11, 3000, false},
                 {12, 3000 + 90000 * 5, 0xAA, 66, 12, 5970, true},
                 {13, 3000 + 90000 * 5 + 3000, 0xAA, 99, 13, 8970, false}}},
        RtpCase{"restart_across_output_wrap",
                90000,
                {{65535, 4294967000u, 0xAA, 0, 65535, 4294967000u, false},
                 {7, 123, 0xCC, 10, 0, 4294967000u + 900, true},  // wraps the output ts
                 {8, 3123, 0xCC, 43, 1, 4294967000u + 900 + 3000, false}}},
        RtpCase{"reordered_packets_are_not_a_restart",
                90000,
                {{10, 0, 0xAA, 0, 10, 0, false},
                 {12, 6000, 0xAA, 66, 12, 6000, false},
                 {11, 3000, 0xAA, 67, 11, 3000, false},
                 {13, 9000, 0xAA, 100, 13, 9000, false}}},
        RtpCase{"unknown_clock_rate_uses_last_step",
                0,
                {{10, 0, 0xAA, X, 10, 0, false},
                 {11, 3000, 0xAA, X, 11, 3000, false},
                 {5, 100, 0xDD, X, 12, 6000, true}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Normalizer, TimelineReanchorAlsoRestartsRtp) {
  Normalizer n;
  auto id = n.add_track();
  NormalizerSettings s;
  TimestampIn in;
  in.duration = ms(40);
  RtpIn r{100, 1000, 0xAA, 90000};
  in.pts = ms(0);
  n.push(id, in, s, &r);
  // Same SSRC and continuous numbers, but the PTS leapt: the output time
  // continues 40 ms later, and RTP time with it.
  in.pts = ms(60000);
  r = RtpIn{101, 4600, 0xAA, 90000};
  Decision d = n.push(id, in, s, &r);
  EXPECT_TRUE(d.discont);
  EXPECT_EQ(d.pts, ms(40));
  EXPECT_EQ(d.rtp->seq, 101);
  EXPECT_EQ(d.rtp->ts, 1000u + 3600);
}

TEST(Normalizer, MonotonicPtsClampsJitterAndReanchorsRestarts) {
  Normalizer n;
  auto id = n.add_track();
  NormalizerSettings s;
  s.monotonic_pts = true;
  auto push = [&](gint64 pts_ms) {
    TimestampIn in;
    in.pts = ms(pts_ms);
    in.duration = ms(20);
    return n.push(id, in, s);
  };
  EXPECT_EQ(push(1000).pts, ms(1000));
  EXPECT_EQ(push(1020).pts, ms(1020));
  Decision jitter = push(1015);  // within half a frame: clamped, not a restart
  EXPECT_EQ(jitter.pts, ms(1020));
  EXPECT_FALSE(jitter.discont);
  EXPECT_FALSE(GST_CLOCK_TIME_IS_VALID(jitter.dts));
  Decision back = push(700);  // would be reordering without monotonic_pts
  EXPECT_EQ(back.pts, ms(1040));
  EXPECT_TRUE(back.discont);
  EXPECT_EQ(push(720).pts, ms(1060));
}

TEST(Normalizer, ToInputReversesTheMapping) {
  Normalizer n;
  auto id = n.add_track();
  NormalizerSettings s;
  EXPECT_EQ(n.to_input(id, ms(5)), NONE);  // nothing mapped yet
  TimestampIn in;
  in.duration = ms(40);
  in.pts = in.dts = ms(1000);
  n.push(id, in, s);
  in.pts = in.dts = ms(90000);
  Decision d = n.push(id, in, s);
  EXPECT_EQ(d.dts, ms(1040));
  EXPECT_EQ(n.to_input(id, d.dts), ms(90000));
  EXPECT_EQ(n.peek(id, ms(90040)), ms(1080));
}

TEST(Normalizer, FlushContinuesRtpNumbering) {
  Normalizer n;
  auto id = n.add_track();
  NormalizerSettings s;
  TimestampIn in;
  RtpIn r{100, 1000, 0xAA, 90000};
  n.push(id, in, s, &r);
  r = RtpIn{101, 4000, 0xAA, 90000};
  n.push(id, in, s, &r);
  n.flush(id, true);
  r = RtpIn{0, 0, 0xAA, 90000};
  Decision d = n.push(id, in, s, &r);
  EXPECT_EQ(d.rtp->seq, 102);
  EXPECT_EQ(d.rtp->ts, 7000u);
}

TEST(NormalizerGroup, SameNameSharesOneTimeline) {
  auto a = NormalizerGroup::acquire("unit-cam1");
  auto b = NormalizerGroup::acquire("unit-cam1");
  auto other = NormalizerGroup::acquire("unit-cam2");
  auto priv1 = NormalizerGroup::acquire("");
  auto priv2 = NormalizerGroup::acquire("");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  EXPECT_NE(priv1, priv2);
  EXPECT_EQ(NormalizerGroup::registered_count(), 2u);

  NormalizerSettings s;
  NormalizerTrack video(a), audio(b);
  TimestampIn in;
  in.duration = ms(40);
  in.pts = in.dts = ms(1000);
  video.push(in, s);
  in.pts = in.dts = ms(900000);  // restart seen by video first
  EXPECT_EQ(video.push(in, s).dts, ms(1040));
  in.pts = in.dts = ms(900000);  // audio follows the shared anchor
  Decision d = audio.push(in, s);
  EXPECT_EQ(d.dts, ms(1040));
}

TEST(NormalizerGroup, DiesWithItsLastHolderAndNameIsReusable) {
  {
    auto g = NormalizerGroup::acquire("unit-temp");
    NormalizerTrack t(g);
    NormalizerSettings s;
    TimestampIn in;
    in.pts = ms(5000);
    t.push(in, s);
    EXPECT_EQ(NormalizerGroup::registered_count(), 1u);
  }
  EXPECT_EQ(NormalizerGroup::registered_count(), 0u);
  auto g = NormalizerGroup::acquire("unit-temp");
  NormalizerTrack t(g);
  TimestampIn in;
  in.pts = ms(7);
  EXPECT_EQ(t.push(in, NormalizerSettings{}).pts, ms(7));  // a fresh timeline
}

TEST(NormalizerGroup, ConcurrentTracksStayMonotonic) {
  auto g = NormalizerGroup::acquire("unit-threads");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int k = 0; k < 4; k++) {
    threads.emplace_back([&, k] {
      NormalizerTrack t(g);
      NormalizerSettings s;
      GstClockTime last = 0;
      for (int i = 0; i < 20000; i++) {
        TimestampIn in;
        // Every 5000 buffers this track's source "restarts" at a new base.
        in.dts = in.pts = ms((i / 5000) * 1000000 + k * 3 + (i % 5000) * 20);
        in.duration = ms(20);
        Decision d = t.push(in, s);
        if (d.dts < last)
          failures++;
        last = d.dts;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace gms
