// The queues before a relay's UDP and TCP sinks: a source that was short of
// CPU stamps its next packets seconds after the previous ones; the queue
// must hold them (bounded in bytes) instead of dropping the oldest.
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include "mounts/relay_queue.h"

namespace gms::mounts {
namespace {

// The next buffer out of the queue, waiting up to 5 s (nullptr after).
GstBuffer* pull_within(GstHarness* h) {
  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  for (;;) {
    if (GstBuffer* b = gst_harness_try_pull(h))
      return b;
    if (g_get_monotonic_time() > end)
      return nullptr;
    g_usleep(1000);
  }
}

TEST(RelayQueue, KeepsPacketsSecondsApartWhileDownstreamWaits) {
  GstHarness* h = gst_harness_new("queue");
  configure_relay_queue(h->element);
  gst_harness_set_blocking_push_mode(h);  // downstream takes one item at a time
  gst_harness_set_src_caps_str(h, "application/x-rtp");
  uint64_t overruns = relay_queue_overruns();
  constexpr int kPackets = 20;
  for (int i = 0; i < kPackets; ++i) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 1000, nullptr);
    gst_buffer_memset(b, 0, guint8(i), 1000);
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GstClockTime(i) * 3 * GST_SECOND;
    ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
  }
  for (int i = 0; i < kPackets; ++i) {
    GstBuffer* b = pull_within(h);
    ASSERT_NE(b, nullptr) << "packet " << i << " never came";
    guint8 tag = 0;
    gst_buffer_extract(b, 0, &tag, 1);
    EXPECT_EQ(tag, i) << "packet " << i << " was dropped";
    gst_buffer_unref(b);
  }
  EXPECT_EQ(relay_queue_overruns(), overruns);
  gst_harness_teardown(h);
}

TEST(RelayQueue, DropsTheOldestBeyondItsBytes) {
  GstHarness* h = gst_harness_new("queue");
  configure_relay_queue(h->element);
  gst_harness_set_blocking_push_mode(h);
  gst_harness_set_src_caps_str(h, "application/x-rtp");
  uint64_t overruns = relay_queue_overruns();
  // Twice the bound in 1 MB buffers: the first ones go, the push never waits.
  const int n = int(2 * kRelayQueueBytes / (1u << 20));
  for (int i = 0; i < n; ++i) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 1u << 20, nullptr);
    GST_BUFFER_DTS(b) = GstClockTime(i) * GST_MSECOND;
    ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
  }
  EXPECT_GT(relay_queue_overruns(), overruns);
  guint bytes = 0;
  g_object_get(h->element, "current-level-bytes", &bytes, nullptr);
  EXPECT_LE(bytes, kRelayQueueBytes);
  gst_harness_teardown(h);
}

}  // namespace
}  // namespace gms::mounts
