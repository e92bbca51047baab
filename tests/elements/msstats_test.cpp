// msstats on a GstHarness: counts, rates over a known stream, gaps, the
// periodic "msstats" element message and the pass-through contract.
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <vector>

#include "harness.h"

namespace gms::test {
namespace {

GstBuffer* make_buffer(gsize size, GstClockTime pts, GstClockTime dur, bool key) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, size, nullptr);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = dur;
  if (!key)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return buf;
}

struct StatsH {
  HarnessPtr h;
  Ref<GstBus> bus;

  explicit StatsH(const char* caps = "video/x-h264,stream-format=byte-stream,alignment=au") {
    h.reset(gst_harness_new("msstats"));
    // A bus of our own: the harness element has no pipeline to post to.
    bus = Ref<GstBus>::adopt(gst_bus_new());
    gst_element_set_bus(h->element, bus.get());
    gst_harness_set_src_caps_str(h.get(), caps);
  }
  ~StatsH() { gst_element_set_bus(h->element, nullptr); }

  // Pushes one buffer and checks it came out unchanged (same object).
  void push_through(GstBuffer* buf) {
    ASSERT_EQ(gst_harness_push(h.get(), buf), GST_FLOW_OK);
    auto out = Ref<GstBuffer>::adopt(gst_harness_pull(h.get()));
    ASSERT_EQ(out.get(), buf);
  }

  GstStructurePtr stats() const {
    GstStructure* s = nullptr;
    g_object_get(h->element, "stats", &s, nullptr);
    return GstStructurePtr(s);
  }

  std::vector<GstStructurePtr> messages() {
    std::vector<GstStructurePtr> r;
    while (auto msg = Ref<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ELEMENT))) {
      const GstStructure* s = gst_message_get_structure(msg.get());
      EXPECT_EQ(GST_MESSAGE_SRC(msg.get()), GST_OBJECT(h->element));
      r.emplace_back(gst_structure_copy(s));
    }
    return r;
  }
};

guint64 u64(const GstStructurePtr& s, const char* field) {
  guint64 v = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s.get(), field, &v)) << field;
  return v;
}
double dbl(const GstStructurePtr& s, const char* field) {
  double v = -1;
  EXPECT_TRUE(gst_structure_get_double(s.get(), field, &v)) << field;
  return v;
}

TEST(MsStats, CountsBuffersBytesAndKeyFrames) {
  StatsH t;
  for (int i = 0; i < 50; i++)
    t.push_through(make_buffer(1000, i * 10 * GST_MSECOND, 10 * GST_MSECOND, i % 5 == 0));
  auto s = t.stats();
  ASSERT_TRUE(s);
  EXPECT_TRUE(gst_structure_has_name(s.get(), "msstats"));
  EXPECT_EQ(u64(s, "buffers"), 50u);
  EXPECT_EQ(u64(s, "bytes"), 50000u);
  EXPECT_EQ(u64(s, "frames"), 50u);
  EXPECT_EQ(u64(s, "key-frames"), 10u);
  EXPECT_EQ(u64(s, "gaps"), 0u);
  gint64 last = 0;
  EXPECT_TRUE(gst_structure_get_int64(s.get(), "last-activity", &last));
  EXPECT_NEAR(double(last), double(g_get_real_time()), 10e6);
}

TEST(MsStats, BitrateAndFramerateOverKnownStream) {
  StatsH t;
  // 2500 bytes every 20 ms = 1 Mbit/s at 50 frames/s, for 2.5 s.
  for (int i = 0; i < 125; i++)
    t.push_through(make_buffer(2500, i * 20 * GST_MSECOND, 20 * GST_MSECOND, i % 25 == 0));
  auto s = t.stats();
  EXPECT_DOUBLE_EQ(dbl(s, "bitrate"), 1e6);
  EXPECT_DOUBLE_EQ(dbl(s, "framerate"), 50.0);
  EXPECT_DOUBLE_EQ(dbl(s, "avg-bitrate"), 1e6);
  EXPECT_EQ(u64(s, "key-frames"), 5u);
}

TEST(MsStats, PostsOneMessagePerIntervalOfRunningTime) {
  StatsH t;
  g_object_set(t.h->element, "interval", guint64(500 * GST_MSECOND), nullptr);
  for (int i = 0; i < 160; i++)  // 1.6 s at 100 buffers/s
    t.push_through(make_buffer(125, i * 10 * GST_MSECOND, 10 * GST_MSECOND, true));
  auto msgs = t.messages();
  ASSERT_EQ(msgs.size(), 3u);  // at 0.5, 1.0 and 1.5 s
  for (size_t i = 0; i < msgs.size(); i++) {
    EXPECT_TRUE(gst_structure_has_name(msgs[i].get(), "msstats"));
    EXPECT_EQ(u64(msgs[i], "running-time"), (i + 1) * 500 * GST_MSECOND);
    EXPECT_EQ(u64(msgs[i], "buffers"), (i + 1) * 50 + 1);
    EXPECT_DOUBLE_EQ(dbl(msgs[i], "bitrate"), 100000.0);
  }
}

TEST(MsStats, IntervalZeroPostsNothing) {
  StatsH t;
  g_object_set(t.h->element, "interval", guint64(0), nullptr);
  for (int i = 0; i < 300; i++)
    t.push_through(make_buffer(10, i * 10 * GST_MSECOND, 10 * GST_MSECOND, true));
  EXPECT_TRUE(t.messages().empty());
  EXPECT_EQ(u64(t.stats(), "buffers"), 300u);
}

TEST(MsStats, CountsDiscontAndTimestampGaps) {
  StatsH t;
  g_object_set(t.h->element, "gap-threshold", guint64(200 * GST_MSECOND), nullptr);
  GstClockTime ts = 0;
  auto next = [&](bool discont = false) {
    GstBuffer* b = make_buffer(10, ts, 10 * GST_MSECOND, true);
    if (discont)
      GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
    ts += 10 * GST_MSECOND;
    return b;
  };
  t.push_through(next(true));  // first buffer: DISCONT is normal
  t.push_through(next());
  ts += 150 * GST_MSECOND;  // hole below the threshold
  t.push_through(next());
  ts += 300 * GST_MSECOND;  // hole above it
  t.push_through(next());
  t.push_through(next(true));  // DISCONT flag
  EXPECT_EQ(u64(t.stats(), "gaps"), 2u);
}

TEST(MsStats, FlushIsNotAGap) {
  StatsH t;
  for (int i = 0; i < 10; i++)
    t.push_through(make_buffer(10, (100 + i) * GST_SECOND, GST_SECOND, true));
  ASSERT_TRUE(gst_harness_push_event(t.h.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(t.h.get(), gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(t.h.get(), gst_event_new_segment(&seg)));
  t.push_through(make_buffer(10, 0, GST_SECOND, true));
  auto s = t.stats();
  EXPECT_EQ(u64(s, "gaps"), 0u);
  EXPECT_EQ(u64(s, "buffers"), 11u);
}

TEST(MsStats, RtpFramesAreMarkerPackets) {
  StatsH t("application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96");
  for (int i = 0; i < 30; i++) {
    GstBuffer* buf = gst_rtp_buffer_new_allocate(100, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    ASSERT_TRUE(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_seq(&rtp, guint16(i));
    gst_rtp_buffer_set_marker(&rtp, i % 3 == 2);  // three packets per frame
    gst_rtp_buffer_unmap(&rtp);
    GST_BUFFER_PTS(buf) = (i / 3) * 40 * GST_MSECOND;
    t.push_through(buf);
  }
  auto s = t.stats();
  EXPECT_EQ(u64(s, "buffers"), 30u);
  EXPECT_EQ(u64(s, "frames"), 10u);
}

// Holes in the RTP sequence numbers are lost packets (across the 16-bit
// wrap too); a late packet and a duplicate are not; a sender that starts
// over far back is followed from there without counting a loss.
TEST(MsStats, RtpSequenceHolesAreLostPackets) {
  StatsH t("application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96");
  auto push_seq = [&](guint16 seq) {
    GstBuffer* buf = gst_rtp_buffer_new_allocate(100, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    ASSERT_TRUE(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_unmap(&rtp);
    GST_BUFFER_PTS(buf) = 0;
    t.push_through(buf);
  };
  for (guint16 seq : {65530, 65531, 65533, 65534})  // 65532 missing
    push_seq(seq);
  EXPECT_EQ(u64(t.stats(), "lost-packets"), 1u);
  EXPECT_EQ(u64(t.stats(), "gaps"), 1u);
  push_seq(65533);  // duplicate
  push_seq(65520);  // late
  push_seq(3);      // wraps; 65535, 0, 1, 2 missing
  EXPECT_EQ(u64(t.stats(), "lost-packets"), 5u);
  EXPECT_EQ(u64(t.stats(), "gaps"), 2u);
  push_seq(30000);  // a new sender, far off: no loss counted
  push_seq(30001);
  auto s = t.stats();
  EXPECT_EQ(u64(s, "lost-packets"), 5u);
  EXPECT_EQ(u64(s, "buffers"), 9u);
}

TEST(MsStats, StartResetsCounters) {
  StatsH t;
  t.push_through(make_buffer(10, 0, GST_SECOND, true));
  ASSERT_EQ(gst_element_set_state(t.h->element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  ASSERT_EQ(gst_element_set_state(t.h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(u64(t.stats(), "buffers"), 0u);
}

}  // namespace
}  // namespace gms::test
