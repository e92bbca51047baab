// msnormalize on GstHarness: restart, jumps, two tracks of one group keeping
// their relative timing, RTP rewriting across a restart and a wrap, DISCONT
// flags, segments, flush and EOS.
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video-event.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "harness.h"
#include "msnormalize.h"
#include "normalizer_group.h"
#include "process.h"

namespace gms::test {
namespace {

constexpr GstClockTime NONE = GST_CLOCK_TIME_NONE;
constexpr GstClockTime ms(guint64 v) { return v * GST_MSECOND; }
constexpr GstClockTime kBias = GMS_NORMALIZE_OUTPUT_BIAS;
// Output timestamps back to running time (the output segment starts at the bias).
GstClockTime rt(GstClockTime t) { return GST_CLOCK_TIME_IS_VALID(t) ? t - kBias : t; }

HarnessPtr make_harness(const char* props = "", const char* caps = "video/x-h264,stream-format=avc,alignment=au") {
  auto desc = std::string("msnormalize ") + props;
  GErrorPtr err;
  auto element = Ref<GstElement>::adopt(gst_parse_launch(desc.c_str(), out(err)));
  EXPECT_TRUE(element) << (err ? err->message : "");
  HarnessPtr h(gst_harness_new_with_element(element.get(), "sink", "src"));
  gst_harness_set_src_caps_str(h.get(), caps);
  return h;
}

GstBuffer* buffer(GstClockTime pts, GstClockTime dts, GstClockTime dur = ms(40)) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, 16, nullptr);
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DTS(b) = dts;
  GST_BUFFER_DURATION(b) = dur;
  return b;
}

struct Out {
  GstClockTime pts, dts;
  bool discont;
};

Out push_pull(GstHarness* h, GstBuffer* in) {
  EXPECT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
  auto out = Ref<GstBuffer>::adopt(gst_harness_pull(h));
  EXPECT_TRUE(out);
  if (!out)
    return {NONE, NONE, false};
  return {rt(GST_BUFFER_PTS(out.get())), rt(GST_BUFFER_DTS(out.get())),
          GST_BUFFER_FLAG_IS_SET(out.get(), GST_BUFFER_FLAG_DISCONT)};
}

guint64 discontinuities(GstHarness* h) {
  guint64 n = 0;
  g_object_get(h->element, "discontinuities", &n, nullptr);
  return n;
}

// The last SEGMENT event that reached the harness sink (events drained).
std::optional<GstSegment> last_segment(GstHarness* h) {
  std::optional<GstSegment> seg;
  while (auto ev = Ref<GstEvent>::adopt(gst_harness_try_pull_event(h))) {
    if (GST_EVENT_TYPE(ev.get()) == GST_EVENT_SEGMENT) {
      seg.emplace();
      gst_event_copy_segment(ev.get(), &*seg);
    }
  }
  return seg;
}

TEST(MsNormalize, SourceRestartContinuesMonotonically) {
  auto h = make_harness();
  GstClockTime last = 0;
  for (int i = 0; i < 25; i++) {
    Out o = push_pull(h.get(), buffer(ms(2000 + 40 * i), ms(2000 + 40 * i)));
    EXPECT_EQ(o.dts, ms(2000 + 40 * i));  // the first buffer keeps its running time
    EXPECT_FALSE(o.discont);
    last = o.dts;
  }
  // Restart: the source starts again from 0 (new segment, new timestamps).
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  Out o = push_pull(h.get(), buffer(0, 0));
  EXPECT_EQ(o.dts, last + ms(40));
  EXPECT_EQ(o.pts, last + ms(40));
  EXPECT_TRUE(o.discont);
  for (int i = 1; i < 10; i++) {
    o = push_pull(h.get(), buffer(ms(40 * i), ms(40 * i)));
    EXPECT_EQ(o.dts, last + ms(40) * (i + 1));
    EXPECT_FALSE(o.discont);
  }
  EXPECT_EQ(discontinuities(h.get()), 1u);
}

TEST(MsNormalize, BackwardJumpAndForwardLeapAreFlattened) {
  auto h = make_harness("max-jump=500000000");
  push_pull(h.get(), buffer(ms(10000), ms(10000)));
  push_pull(h.get(), buffer(ms(10040), ms(10040)));
  Out back = push_pull(h.get(), buffer(ms(1000), ms(1000)));
  EXPECT_EQ(back.dts, ms(10080));
  EXPECT_TRUE(back.discont);
  Out leap = push_pull(h.get(), buffer(ms(900000), ms(900000)));
  EXPECT_EQ(leap.dts, ms(10120));
  EXPECT_TRUE(leap.discont);
  Out hole = push_pull(h.get(), buffer(ms(900400), ms(900400)));  // below max-jump: kept
  EXPECT_EQ(hole.dts, ms(10520));
  EXPECT_FALSE(hole.discont);
}

TEST(MsNormalize, MissingDtsAndUntimedBuffers) {
  auto h = make_harness();
  Out a = push_pull(h.get(), buffer(ms(500), NONE));
  EXPECT_EQ(a.pts, ms(500));
  EXPECT_EQ(a.dts, NONE);
  Out untimed = push_pull(h.get(), buffer(NONE, NONE, NONE));
  EXPECT_EQ(untimed.pts, NONE);
  EXPECT_EQ(untimed.dts, NONE);
  Out restart = push_pull(h.get(), buffer(ms(77777), NONE));
  EXPECT_EQ(restart.pts, ms(540));
  EXPECT_EQ(restart.dts, NONE);
  EXPECT_TRUE(restart.discont);
}

TEST(MsNormalize, DtsBeforeSegmentStartStaysValid) {
  auto h = make_harness();
  // As x264enc with B-frames: the first DTS lies before the segment start.
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = ms(5000);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  Out a = push_pull(h.get(), buffer(ms(5000), ms(4933)));
  Out b = push_pull(h.get(), buffer(ms(5133), ms(4966)));
  Out c = push_pull(h.get(), buffer(ms(5066), ms(5000)));
  // Raw output DTS (rt() wraps for times before running time 0).
  EXPECT_EQ(a.pts, 0u);
  EXPECT_EQ(a.dts + kBias, kBias - ms(67));
  EXPECT_EQ(b.dts + kBias, kBias - ms(34));
  EXPECT_EQ(c.dts, 0u);
  EXPECT_FALSE(a.discont || b.discont || c.discont);
}

TEST(MsNormalize, WallclockLeavesTheOutageInTheTimeline) {
  auto h = make_harness("wallclock=true");
  const auto start = std::chrono::steady_clock::now();
  push_pull(h.get(), buffer(ms(1000), ms(1000)));
  push_pull(h.get(), buffer(ms(1040), ms(1040)));
  // The source is away for at least 400 ms, then restarts from 0.
  ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() - start >= 400ms; }, 5s));
  Out o = push_pull(h.get(), buffer(0, 0));
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_TRUE(o.discont);
  EXPECT_GE(o.dts, ms(1000 + 400));
  EXPECT_LE(o.dts, ms(1000) + GstClockTime(elapsed.count()));
}

TEST(MsNormalize, OutputSegmentIsRunningTime) {
  auto h = make_harness();
  // Input segment starting at 10 s: PTS 10.5 s is running time 0.5 s.
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = ms(10000);
  seg.time = ms(10000);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  Out o = push_pull(h.get(), buffer(ms(10500), ms(10500)));
  EXPECT_EQ(o.pts, ms(500));
  auto out_seg = last_segment(h.get());
  ASSERT_TRUE(out_seg);
  EXPECT_EQ(out_seg->format, GST_FORMAT_TIME);
  EXPECT_EQ(out_seg->start, kBias);
  EXPECT_EQ(out_seg->base, 0u);
  EXPECT_EQ(gst_segment_to_running_time(&*out_seg, GST_FORMAT_TIME, o.pts + kBias), ms(500));
}

TEST(MsNormalize, TwoTracksInOneGroupKeepRelativeTimingAcrossRestart) {
  auto video = make_harness("group=elem-cam1");
  auto audio = make_harness("group=elem-cam1", "audio/mpeg,mpegversion=4,stream-format=raw");
  std::string group;
  {
    gchar* g = nullptr;
    g_object_get(video->element, "group", &g, nullptr);
    group = g;
    g_free(g);
  }
  EXPECT_EQ(group, "elem-cam1");

  // Video 25 fps, audio 50 packets/s, both starting at 3 s of running time.
  for (int i = 0; i < 50; i++) {
    push_pull(video.get(), buffer(ms(3000 + 40 * i), ms(3000 + 40 * i)));
    push_pull(audio.get(), buffer(ms(3000 + 20 * i), ms(3000 + 20 * i), ms(20)));
    push_pull(audio.get(), buffer(ms(3010 + 20 * i), ms(3010 + 20 * i), ms(20)));
  }
  // Source restart: timestamps of both tracks start over at 600 s; the audio
  // of the new source begins 100 ms after its video.
  Out v0 = push_pull(video.get(), buffer(ms(600000), ms(600000)));
  Out a0 = push_pull(audio.get(), buffer(ms(600100), ms(600100), ms(20)));
  EXPECT_TRUE(v0.discont);
  EXPECT_TRUE(a0.discont);
  EXPECT_GE(v0.dts, ms(3000 + 40 * 50));  // no going back
  EXPECT_LE(v0.dts, ms(3000 + 40 * 50 + 40));  // and no leap
  EXPECT_EQ(a0.dts - v0.dts, ms(100));    // relative timing kept
  for (int i = 1; i < 20; i++) {
    Out v = push_pull(video.get(), buffer(ms(600000 + 40 * i), ms(600000 + 40 * i)));
    Out a = push_pull(audio.get(), buffer(ms(600100 + 20 * i), ms(600100 + 20 * i), ms(20)));
    EXPECT_EQ(v.dts, v0.dts + ms(40 * i));
    EXPECT_EQ(a.dts, a0.dts + ms(20 * i));
    EXPECT_FALSE(v.discont || a.discont);
  }
  EXPECT_EQ(discontinuities(video.get()), 1u);
  EXPECT_EQ(discontinuities(audio.get()), 1u);
}

TEST(MsNormalize, SeparateGroupsAreIndependent) {
  auto a = make_harness("group=elem-a");
  auto b = make_harness("group=elem-b");
  push_pull(a.get(), buffer(ms(1000), ms(1000)));
  push_pull(b.get(), buffer(ms(1000), ms(1000)));
  push_pull(a.get(), buffer(ms(50000), ms(50000)));  // a restarts
  Out o = push_pull(b.get(), buffer(ms(1040), ms(1040)));
  EXPECT_EQ(o.dts, ms(1040));
  EXPECT_FALSE(o.discont);
}

GstBuffer* rtp_packet(guint16 seq, guint32 ts, guint32 ssrc, GstClockTime pts, bool marker = true) {
  GstBuffer* buf = gst_rtp_buffer_new_allocate(20, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  EXPECT_TRUE(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_payload_type(&rtp, 96);
  gst_rtp_buffer_set_seq(&rtp, seq);
  gst_rtp_buffer_set_timestamp(&rtp, ts);
  gst_rtp_buffer_set_ssrc(&rtp, ssrc);
  gst_rtp_buffer_set_marker(&rtp, marker);
  gst_rtp_buffer_unmap(&rtp);
  GST_BUFFER_PTS(buf) = pts;
  return buf;
}

struct RtpOutPkt {
  guint16 seq;
  guint32 ts, ssrc;
  GstClockTime pts;
  bool discont;
};

RtpOutPkt push_pull_rtp(GstHarness* h, GstBuffer* in) {
  EXPECT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
  auto out = Ref<GstBuffer>::adopt(gst_harness_pull(h));
  RtpOutPkt r{};
  if (!out)
    return r;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  EXPECT_TRUE(gst_rtp_buffer_map(out.get(), GST_MAP_READ, &rtp));
  r = {gst_rtp_buffer_get_seq(&rtp), gst_rtp_buffer_get_timestamp(&rtp), gst_rtp_buffer_get_ssrc(&rtp),
       rt(GST_BUFFER_PTS(out.get())), GST_BUFFER_FLAG_IS_SET(out.get(), GST_BUFFER_FLAG_DISCONT)};
  gst_rtp_buffer_unmap(&rtp);
  return r;
}

constexpr const char* kRtpCaps =
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,ssrc=(uint)305419896,"
    "seqnum-base=(uint)65530,clock-base=(uint)4294700000";

TEST(MsNormalize, RtpTimestampAndSequenceWrapPassThrough) {
  auto h = make_harness("", kRtpCaps);
  // 30 fps, 3000 ticks a frame, crossing both wraps.
  guint16 seq = 65530;
  guint32 ts = 4294700000u;
  for (int i = 0; i < 200; i++, seq++, ts += 3000) {
    RtpOutPkt o = push_pull_rtp(h.get(), rtp_packet(seq, ts, 0x12345678, ms(1000) + i * GST_SECOND / 30));
    ASSERT_EQ(o.seq, seq) << i;
    ASSERT_EQ(o.ts, ts) << i;
    ASSERT_EQ(o.ssrc, 0x12345678u);
    ASSERT_FALSE(o.discont) << i;
  }
  EXPECT_EQ(discontinuities(h.get()), 0u);
  // Downstream caps lost the fields we may rewrite.
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(h->sinkpad));
  ASSERT_TRUE(caps);
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  EXPECT_FALSE(gst_structure_has_field(s, "ssrc"));
  EXPECT_FALSE(gst_structure_has_field(s, "seqnum-base"));
  EXPECT_FALSE(gst_structure_has_field(s, "clock-base"));
  gint rate = 0;
  EXPECT_TRUE(gst_structure_get_int(s, "clock-rate", &rate));
  EXPECT_EQ(rate, 90000);
}

TEST(MsNormalize, RtpRestartKeepsSsrcAndContinuesNumbering) {
  auto h = make_harness("", kRtpCaps);
  RtpOutPkt last{};
  for (int i = 0; i < 30; i++)
    last = push_pull_rtp(h.get(), rtp_packet(guint16(65500 + i), 4294960000u + 3000u * i, 0xAAAA,
                                             ms(1000) + ms(33) * i));
  // The origin restarted: new SSRC, new random seq and timestamp; arrival
  // times (PTS) keep going, 100 ms after the last packet.
  RtpOutPkt o = push_pull_rtp(h.get(), rtp_packet(1234, 777, 0xBBBB, last.pts + ms(100)));
  EXPECT_EQ(o.ssrc, 0xAAAAu);
  EXPECT_EQ(o.seq, guint16(last.seq + 1));
  EXPECT_EQ(o.ts, guint32(last.ts + 9000));  // 100 ms at 90 kHz, across the ts wrap
  EXPECT_TRUE(o.discont);
  RtpOutPkt n = push_pull_rtp(h.get(), rtp_packet(1235, 3777, 0xBBBB, last.pts + ms(133)));
  EXPECT_EQ(n.seq, guint16(last.seq + 2));
  EXPECT_EQ(n.ts, guint32(last.ts + 12000));
  EXPECT_FALSE(n.discont);
}

TEST(MsNormalize, InvalidRtpPacketsAreDroppedAndCounted) {
  auto h = make_harness("", kRtpCaps);
  push_pull_rtp(h.get(), rtp_packet(10, 1000, 0xAAAA, ms(0)));
  GstBuffer* junk = gst_buffer_new_allocate(nullptr, 5, nullptr);  // shorter than an RTP header
  GST_BUFFER_PTS(junk) = ms(20);
  EXPECT_EQ(gst_harness_push(h.get(), junk), GST_FLOW_OK);
  RtpOutPkt next = push_pull_rtp(h.get(), rtp_packet(11, 4000, 0xAAAA, ms(33)));
  EXPECT_EQ(next.seq, 11);
  EXPECT_EQ(gst_harness_buffers_in_queue(h.get()), 0u);  // the junk never came out
  guint64 invalid = 0;
  g_object_get(h->element, "invalid-rtp", &invalid, nullptr);
  EXPECT_EQ(invalid, 1u);
}

TEST(MsNormalize, DiscontOnlyWhereReanchoredAndUpstreamDiscontKept) {
  auto h = make_harness();
  std::vector<bool> flags;
  GstClockTime t[] = {ms(0), ms(40), ms(80), ms(90000), ms(90040), ms(90080)};
  for (int i = 0; i < 6; i++) {
    GstBuffer* b = buffer(t[i], t[i]);
    if (i == 5)
      GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);  // upstream's own: passes through
    flags.push_back(push_pull(h.get(), b).discont);
  }
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false, true, false, true}));
  EXPECT_EQ(discontinuities(h.get()), 1u);
}

TEST(MsNormalize, FlushWithResetTimeStartsAfreshAndEosPasses) {
  auto h = make_harness();
  for (int i = 0; i < 5; i++)
    push_pull(h.get(), buffer(ms(8000 + 40 * i), ms(8000 + 40 * i)));
  last_segment(h.get());
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  // The running time restarted: so does the output (no 8 s of waiting downstream).
  Out o = push_pull(h.get(), buffer(ms(0), ms(0)));
  EXPECT_EQ(o.dts, 0u);
  EXPECT_FALSE(o.discont);
  EXPECT_TRUE(last_segment(h.get()));  // a segment followed the flush

  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  bool eos = false;
  while (auto ev = Ref<GstEvent>::adopt(gst_harness_try_pull_event(h.get())))
    eos |= GST_EVENT_TYPE(ev.get()) == GST_EVENT_EOS;
  EXPECT_TRUE(eos);
}

TEST(MsNormalize, FlushWithoutResetTimeContinues) {
  auto h = make_harness();
  for (int i = 0; i < 5; i++)
    push_pull(h.get(), buffer(ms(8000 + 40 * i), ms(8000 + 40 * i)));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_stop(FALSE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  Out o = push_pull(h.get(), buffer(ms(0), ms(0)));
  EXPECT_EQ(o.dts, ms(8200));
  EXPECT_TRUE(o.discont);
}

TEST(MsNormalize, GapEventsAreMapped) {
  auto h = make_harness();
  push_pull(h.get(), buffer(ms(100), ms(100)));
  push_pull(h.get(), buffer(ms(99000), ms(99000)));  // re-anchored: offset -98860 ms
  last_segment(h.get());
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_gap(ms(99040), ms(40))));
  auto ev = Ref<GstEvent>::adopt(gst_harness_pull_event(h.get()));
  ASSERT_TRUE(ev);
  ASSERT_EQ(GST_EVENT_TYPE(ev.get()), GST_EVENT_GAP);
  GstClockTime ts, dur;
  gst_event_parse_gap(ev.get(), &ts, &dur);
  EXPECT_EQ(rt(ts), ms(180));
  EXPECT_EQ(dur, ms(40));
}

TEST(MsNormalize, UpstreamForceKeyUnitIsMappedToInputTime) {
  auto h = make_harness();
  push_pull(h.get(), buffer(ms(100), ms(100)));
  push_pull(h.get(), buffer(ms(99000), ms(99000)));  // output 140 ms = input 99000 ms
  // Drain the upstream events the harness produced so far (reconfigure etc.).
  while (auto ev = Ref<GstEvent>::adopt(gst_harness_try_pull_upstream_event(h.get()))) {
  }
  ASSERT_TRUE(gst_harness_push_upstream_event(
      h.get(), gst_video_event_new_upstream_force_key_unit(ms(1140), TRUE, 3)));
  Ref<GstEvent> ev;
  while ((ev = Ref<GstEvent>::adopt(gst_harness_try_pull_upstream_event(h.get()))) &&
         !gst_video_event_is_force_key_unit(ev.get())) {
  }
  ASSERT_TRUE(ev);
  GstClockTime rt = 0;
  gboolean all_headers = FALSE;
  guint count = 0;
  ASSERT_TRUE(gst_video_event_parse_upstream_force_key_unit(ev.get(), &rt, &all_headers, &count));
  EXPECT_EQ(rt, ms(100000));
  EXPECT_TRUE(all_headers);
  EXPECT_EQ(count, 3u);
}

TEST(MsNormalize, GroupLivesWhileElementsArePlaying) {
  EXPECT_EQ(NormalizerGroup::registered_count(), 0u);
  {
    auto h = make_harness("group=elem-life");
    EXPECT_EQ(NormalizerGroup::registered_count(), 1u);
    ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    EXPECT_EQ(NormalizerGroup::registered_count(), 0u);
    ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
    EXPECT_EQ(NormalizerGroup::registered_count(), 1u);
  }
  EXPECT_EQ(NormalizerGroup::registered_count(), 0u);
}

TEST(MsNormalize, PropertiesHaveDefaultsAndBounds) {
  auto h = make_harness();
  guint64 max_jump = 0;
  gboolean wallclock = TRUE;
  g_object_get(h->element, "max-jump", &max_jump, "wallclock", &wallclock, nullptr);
  EXPECT_EQ(max_jump, GST_SECOND);
  EXPECT_FALSE(wallclock);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(h->element), "max-jump");
  ASSERT_TRUE(spec);
  EXPECT_EQ(G_PARAM_SPEC_UINT64(spec)->minimum, GST_MSECOND);
  // Changeable while playing.
  g_object_set(h->element, "max-jump", guint64(ms(100)), nullptr);
  push_pull(h.get(), buffer(ms(0), ms(0)));
  EXPECT_TRUE(push_pull(h.get(), buffer(ms(300), ms(300))).discont);
}

TEST(MsNormalize, StressStateChanges) {
  auto h = make_harness("group=elem-stress");
  GstHarnessThread* t = gst_harness_stress_statechange_start(h.get());
  g_usleep(200 * 1000);
  EXPECT_GT(gst_harness_stress_thread_stop(t), 10u);
  EXPECT_EQ(NormalizerGroup::registered_count() <= 1, true);
}

}  // namespace
}  // namespace gms::test
