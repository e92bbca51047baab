// msnormalize on real RTP: an H.264 origin "restarts" (new SSRC, sequence
// numbers and timestamps, crossing both wraps) in the middle of a stream; a
// real receiver (rtpjitterbuffer ! rtph264depay ! avdec_h264) behind
// msnormalize must decode every frame of both runs, on one SSRC with
// continuous sequence numbers. (Measured without msnormalize: the receiver's
// jitterbuffer drops about a second of the restarted stream.)
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::test {
namespace {

struct Packets {
  Ref<GstCaps> caps;
  std::vector<Ref<GstBuffer>> buffers;
};

// Runs an origin to EOS and keeps every RTP packet it made.
Packets make_packets(const std::string& payloader_props, int frames) {
  const std::string line = "videotestsrc num-buffers=" + std::to_string(frames) +
                           " ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc key-int-max=15 "
                           "speed-preset=ultrafast tune=zerolatency ! rtph264pay config-interval=-1 pt=96 " +
                           payloader_props + " ! appsink name=out sync=false";
  GErrorPtr err;
  auto pipe = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  EXPECT_TRUE(pipe) << (err ? err->message : "");
  Packets p;
  if (!pipe)
    return p;
  auto sink = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipe.get()), "out"));
  gst_element_set_state(pipe.get(), GST_STATE_PLAYING);
  while (auto sample = Ref<GstSample>::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 30 * GST_SECOND))) {
    if (!p.caps)
      p.caps = Ref<GstCaps>::borrow(gst_sample_get_caps(sample.get()));
    p.buffers.push_back(Ref<GstBuffer>::borrow(gst_sample_get_buffer(sample.get())));
  }
  gst_element_set_state(pipe.get(), GST_STATE_NULL);
  return p;
}

struct Received {
  guint64 decoded = 0;
  std::vector<guint32> ssrcs;
  int seq_breaks = 0;
  bool eos = false;
};

// What left the element under test, seen by a pad probe on its src pad.
struct Seen {
  std::mutex mutex;
  std::vector<guint32> ssrcs;
  int seq_breaks = 0;
  bool have_last = false;
  guint16 last_seq = 0;
};

GstPadProbeReturn on_packet(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* seen = static_cast<Seen*>(data);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  const guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  const guint16 seq = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  std::lock_guard lock(seen->mutex);
  if (std::find(seen->ssrcs.begin(), seen->ssrcs.end(), ssrc) == seen->ssrcs.end())
    seen->ssrcs.push_back(ssrc);
  if (seen->have_last && seq != guint16(seen->last_seq + 1))
    seen->seq_breaks++;
  seen->have_last = true;
  seen->last_seq = seq;
  return GST_PAD_PROBE_OK;
}

// Feeds the packets (second run right after the first, as arrival times
// would be) through `middle` into a decoding receiver.
Received receive(const Packets& a, const Packets& b, const char* middle) {
  const std::string line = std::string("appsrc name=in is-live=true format=time ! ") + middle +
                           " name=mid ! rtpjitterbuffer mode=none latency=100 ! rtph264depay ! avdec_h264 ! "
                           "msstats name=frames interval=0 ! fakesink sync=false";
  GErrorPtr err;
  auto pipe = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  EXPECT_TRUE(pipe) << (err ? err->message : "");
  Received r;
  if (!pipe)
    return r;
  auto src = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipe.get()), "in"));
  auto mid = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipe.get()), "mid"));
  auto mid_src = Ref<GstPad>::adopt(gst_element_get_static_pad(mid.get(), "src"));
  Seen seen;
  gst_pad_add_probe(mid_src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_packet, &seen, nullptr);
  g_object_set(src.get(), "caps", a.caps.get(), nullptr);
  gst_element_set_state(pipe.get(), GST_STATE_PLAYING);

  // Arrival times: the origin's own PTS, the second run 40 ms after the first.
  GstClockTime shift = 0, last = 0;
  for (const auto* run : {&a, &b}) {
    for (const auto& buf : run->buffers) {
      GstBuffer* copy = gst_buffer_copy(buf.get());
      GST_BUFFER_PTS(copy) += shift;
      GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
      last = GST_BUFFER_PTS(copy);
      gst_app_src_push_buffer(GST_APP_SRC(src.get()), copy);
    }
    shift = last + 40 * GST_MSECOND;
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));

  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipe.get()));
  auto msg = Ref<GstMessage>::adopt(
      gst_bus_timed_pop_filtered(bus.get(), 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  r.eos = msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
  auto stats_el = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipe.get()), "frames"));
  GstStructure* st = nullptr;
  g_object_get(stats_el.get(), "stats", &st, nullptr);
  GstStructurePtr stats(st);
  gst_structure_get_uint64(stats.get(), "buffers", &r.decoded);
  gst_element_set_state(pipe.get(), GST_STATE_NULL);
  std::lock_guard lock(seen.mutex);
  r.ssrcs = seen.ssrcs;
  r.seq_breaks = seen.seq_breaks;
  return r;
}

TEST(MsNormalizeRtp, ReceiverDecodesAcrossOriginRestart) {
  // First run ends just before both wraps; the restart jumps everything.
  Packets a = make_packets("ssrc=1111 seqnum-offset=65500 timestamp-offset=4294900000", 45);
  Packets b = make_packets("ssrc=2222 seqnum-offset=100 timestamp-offset=12345", 45);
  ASSERT_FALSE(a.buffers.empty());
  ASSERT_FALSE(b.buffers.empty());

  Received r = receive(a, b, "msnormalize");
  EXPECT_TRUE(r.eos);
  EXPECT_EQ(r.ssrcs, std::vector<guint32>{1111});
  EXPECT_EQ(r.seq_breaks, 0);
  EXPECT_EQ(r.decoded, 90u);
  std::printf("with msnormalize: %llu of 90 frames decoded, %d seq breaks, %zu SSRCs\n",
              (unsigned long long)r.decoded, r.seq_breaks, r.ssrcs.size());

  // The same packets without msnormalize: what a viewer would otherwise get.
  // (Frames lost there depend on the jitterbuffer's timers: reported, not asserted.)
  Received raw = receive(a, b, "identity");
  std::printf("without: %llu of 90 frames decoded, %d seq breaks, %zu SSRCs\n", (unsigned long long)raw.decoded,
              raw.seq_breaks, raw.ssrcs.size());
  EXPECT_EQ(raw.ssrcs.size(), 2u);
  EXPECT_EQ(raw.seq_breaks, 1);
}

}  // namespace
}  // namespace gms::test
