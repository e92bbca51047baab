// A TCP appsink of gst-rtsp-server holds a sample its send thread was told
// about; a seek's flush must not take it away (the send thread would wait
// for it for ever, holding the stream's lock).
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include <atomic>

#include "core/flush_keeper.h"

namespace gms {
namespace {

struct Sink {
  GstHarness* h = nullptr;
  std::atomic<int> notices{0};  // new-sample callbacks: the send thread's wake-ups

  explicit Sink(bool keep) {
    h = gst_harness_new("appsink");
    // As gst-rtsp-server 1.22 makes its TCP appsinks.
    g_object_set(h->element, "max-buffers", 1u, "buffer-list", TRUE, "sync", FALSE, nullptr);
    GstAppSinkCallbacks cb{};
    cb.new_sample = [](GstAppSink*, gpointer self) {
      static_cast<Sink*>(self)->notices++;
      return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(h->element), &cb, this, nullptr);
    if (keep)
      keep_sample_across_flushes(h->element);
    gst_harness_set_src_caps_str(h, "application/x-rtp");
  }
  ~Sink() { gst_harness_teardown(h); }

  void push_list(guint8 tag) {
    GstBufferList* list = gst_buffer_list_new();
    for (int i = 0; i < 3; ++i) {
      GstBuffer* b = gst_buffer_new_allocate(nullptr, 100, nullptr);
      gst_buffer_memset(b, 0, tag, 100);
      GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GstClockTime(tag) * GST_SECOND;
      gst_buffer_list_add(list, b);
    }
    ASSERT_EQ(gst_pad_push_list(h->srcpad, list), GST_FLOW_OK);
  }
  void flush() {
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  }
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;  // of the first buffer pulled last
  // The tag of the queued sample, -1 if none (never waits).
  int pull_tag() {
    GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(h->element), 0);
    if (!s)
      return -1;
    GstBufferList* list = gst_sample_get_buffer_list(s);
    int tag = -2;
    guint8 byte = 0;
    if (list && gst_buffer_list_length(list) == 3 &&
        gst_buffer_extract(gst_buffer_list_get(list, 0), 0, &byte, 1) == 1) {
      tag = byte;
      last_pts = GST_BUFFER_PTS(gst_buffer_list_get(list, 0));
    }
    gst_sample_unref(s);
    return tag;
  }
};

// What the library meets without the keeper: told about a sample (one
// wake-up), and after the flush nothing to pull; its pull would wait.
TEST(FlushKeeper, WithoutItAFlushTakesTheSampleTheSendThreadWasToldAbout) {
  Sink s(false);
  s.push_list(7);
  EXPECT_EQ(s.notices, 1);
  s.flush();
  EXPECT_EQ(s.pull_tag(), -1);
}

TEST(FlushKeeper, TheQueuedSampleIsThereAfterTheFlush) {
  Sink s(true);
  s.push_list(7);
  s.flush();
  // Given back with a new wake-up (the send thread may have cleared its
  // flag just before the flush and be pulling already).
  EXPECT_EQ(s.notices, 2);
  EXPECT_EQ(s.pull_tag(), 7);
  // Without its time: the library's backlog would take the older position
  // after a seek back for time going backwards (an assertion).
  EXPECT_FALSE(GST_CLOCK_TIME_IS_VALID(s.last_pts));
  EXPECT_EQ(s.pull_tag(), -1);
  // The stream goes on after the flush as before.
  gst_harness_push_event(s.h, gst_event_new_segment([] {
                           static GstSegment seg;
                           gst_segment_init(&seg, GST_FORMAT_TIME);
                           return &seg;
                         }()));
  s.push_list(9);
  EXPECT_EQ(s.pull_tag(), 9);
  EXPECT_EQ(s.last_pts, 9 * GST_SECOND);
}

TEST(FlushKeeper, AFlushOfAnEmptySinkGivesNothingBack) {
  Sink s(true);
  s.push_list(7);
  EXPECT_EQ(s.pull_tag(), 7);
  s.flush();
  EXPECT_EQ(s.notices, 1);
  EXPECT_EQ(s.pull_tag(), -1);
}

}  // namespace
}  // namespace gms
