/**
 * SECTION:element-msstats
 * @title: msstats
 *
 * A pass-through that counts what flows: buffers, bytes, frames, key frames
 * (on RTP video: access units that start a key frame, read from the payload
 * — an IDR picture for H.264, an IRAP one for H.265, a VP8/VP9 key frame,
 * every JPEG picture — with its parameter sets counted as part of it; on
 * RTP audio or an unknown payload none; otherwise buffers without
 * DELTA_UNIT), gaps (DISCONT buffers, timestamp holes
 * longer than #GmsStats:gap-threshold and, on RTP, holes in the sequence
 * numbers, whose missing packets are counted as lost-packets), bitrate, frame rate and the wall-clock
 * time of the last buffer. Buffers are never copied or changed.
 *
 * The counters are readable at any time as the #GmsStats:stats structure, and
 * every #GmsStats:interval of running time the element posts an element
 * message named "msstats" carrying the same structure. The message is posted
 * from the streaming thread by the buffer that crosses the interval: there is
 * no timer, and nothing is posted while no data flows (last-activity then
 * tells how long the stream has been idle).
 *
 * On RTP caps a frame is a packet with the marker bit set.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc ! x264enc ! h264parse ! msstats interval=2000000000 ! fakesink
 * ]|
 */
#include "msstats.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <atomic>
#include <utility>

#include "elements.h"
#include "relay/rtp_keyframe.h"
#include "stream_stats.h"

GST_DEBUG_CATEGORY_STATIC(gms_stats_debug);
#define GST_CAT_DEFAULT gms_stats_debug

namespace {

constexpr guint64 kDefaultInterval = GST_SECOND;
constexpr guint64 kDefaultGapThreshold = GST_SECOND;

enum { PROP_0, PROP_INTERVAL, PROP_GAP_THRESHOLD, PROP_STATS };

// C++ state of the element; made with new in init, deleted in finalize.
struct Impl {
  // Settings: atomics, read once per buffer.
  std::atomic<guint64> interval{kDefaultInterval};
  std::atomic<guint64> gap_threshold{kDefaultGapThreshold};
  // Set from caps on the streaming thread, read there.
  std::atomic<bool> is_rtp{false};
  std::atomic<gms::relay::Codec> codec{gms::relay::Codec::kUnknown};
  gms::StreamStats stats;
  // Streaming thread: the RTP timestamp of the last key packet, so that the
  // packets of one key access unit (SPS, PPS, the IDR's fragments, which
  // share it) count once.
  bool have_key_ts = false;
  guint32 key_ts = 0;
};

}  // namespace

struct _GmsStats {
  GstBaseTransform parent;
  Impl* impl;
};

G_DEFINE_TYPE_WITH_CODE(GmsStats, gms_stats, GST_TYPE_BASE_TRANSFORM,
                        GST_DEBUG_CATEGORY_INIT(gms_stats_debug, "msstats", 0,
                                                "mediaserver stream statistics"))
GST_ELEMENT_REGISTER_DEFINE(msstats, "msstats", GST_RANK_NONE, GMS_TYPE_STATS)

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

Impl* impl_of(gpointer obj) { return GMS_STATS(obj)->impl; }

GstStructure* make_structure(const gms::StatsSnapshot& s) {
  return gst_structure_new("msstats",                                  //
                           "buffers", G_TYPE_UINT64, s.buffers,        //
                           "bytes", G_TYPE_UINT64, s.bytes,            //
                           "frames", G_TYPE_UINT64, s.frames,          //
                           "key-frames", G_TYPE_UINT64, s.key_frames,  //
                           "gaps", G_TYPE_UINT64, s.gaps,              //
                           "lost-packets", G_TYPE_UINT64, s.lost,      //
                           "bitrate", G_TYPE_DOUBLE, s.bitrate,        //
                           "framerate", G_TYPE_DOUBLE, s.framerate,    //
                           "avg-bitrate", G_TYPE_DOUBLE, s.avg_bitrate,  //
                           "avg-framerate", G_TYPE_DOUBLE, s.avg_framerate,  //
                           "running-time", G_TYPE_UINT64, s.running_time,    //
                           "last-activity", G_TYPE_INT64, s.last_activity_us, nullptr);
}

// Running time of the buffer's DTS (else PTS), or NONE; without timestamps
// the element clock's running time stands in, so rates still work on untimed
// streams in a playing pipeline.
GstClockTime buffer_running_time(GstBaseTransform* trans, GstBuffer* buf) {
  const GstClockTime ts = GST_BUFFER_DTS_OR_PTS(buf);
  if (GST_CLOCK_TIME_IS_VALID(ts)) {
    if (trans->segment.format == GST_FORMAT_TIME)
      return gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, ts);
    return GST_CLOCK_TIME_NONE;
  }
  return gst_element_get_current_running_time(GST_ELEMENT(trans));
}

// RTP: whether this packet starts a key access unit (its first key packet;
// later ones with the same timestamp continue it). The DELTA_UNIT flag says
// nothing here: payloaders leave it off every packet of a key frame, and
// depayloaders' conventions differ.
bool starts_key_frame(Impl& impl, GstRTPBuffer& rtp) {
  const auto codec = impl.codec.load(std::memory_order_relaxed);
  if (codec == gms::relay::Codec::kAudio || codec == gms::relay::Codec::kUnknown)
    return false;
  const auto* payload = static_cast<const uint8_t*>(gst_rtp_buffer_get_payload(&rtp));
  const auto k = gms::relay::inspect_payload(codec, payload, gst_rtp_buffer_get_payload_len(&rtp));
  if (!k.key)
    return false;
  const guint32 ts = gst_rtp_buffer_get_timestamp(&rtp);
  const bool start = !(impl.have_key_ts && impl.key_ts == ts);
  impl.have_key_ts = true;
  impl.key_ts = ts;
  return start;
}

GstFlowReturn transform_ip(GstBaseTransform* trans, GstBuffer* buf) noexcept {
  Impl* impl = impl_of(trans);
  gms::StatsSettings settings;
  settings.interval = impl->interval.load(std::memory_order_relaxed);
  settings.gap_threshold = impl->gap_threshold.load(std::memory_order_relaxed);

  gms::BufferFacts facts;
  facts.size = gst_buffer_get_size(buf);
  facts.running_time = buffer_running_time(trans, buf);
  facts.duration = GST_BUFFER_DURATION(buf);
  facts.delta_unit = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  facts.discont = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT);
  facts.now_us = g_get_real_time();
  if (impl->is_rtp.load(std::memory_order_relaxed)) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) {
      facts.frame_end = gst_rtp_buffer_get_marker(&rtp);
      facts.rtp_seq = gst_rtp_buffer_get_seq(&rtp);
      facts.delta_unit = !starts_key_frame(*impl, rtp);
      gst_rtp_buffer_unmap(&rtp);
    }
  }

  if (impl->stats.add(facts, settings)) {
    // Built only at report time, never per buffer; no lock is held here.
    const auto snap = impl->stats.snapshot();
    GST_LOG_OBJECT(trans, "report: %" G_GUINT64_FORMAT " buffers, %.0f bit/s", snap.buffers, snap.bitrate);
    gst_element_post_message(GST_ELEMENT(trans),
                             gst_message_new_element(GST_OBJECT(trans), make_structure(snap)));
  }
  return GST_FLOW_OK;
}

gboolean set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) noexcept {
  const GstStructure* s = gst_caps_get_structure(incaps, 0);
  const bool rtp = s && gst_structure_has_name(s, "application/x-rtp");
  impl_of(trans)->is_rtp.store(rtp);
  const char* encoding = rtp ? gst_structure_get_string(s, "encoding-name") : nullptr;
  const char* media = rtp ? gst_structure_get_string(s, "media") : nullptr;
  impl_of(trans)->codec.store(encoding ? gms::relay::codec_from_encoding(encoding, media ? media : "")
                                       : gms::relay::Codec::kUnknown);
  return TRUE;
}

gboolean sink_event(GstBaseTransform* trans, GstEvent* event) noexcept {
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP)
    impl_of(trans)->stats.forget_timeline();  // the timeline restarts; that is no gap
  return GST_BASE_TRANSFORM_CLASS(gms_stats_parent_class)->sink_event(trans, event);
}

gboolean start(GstBaseTransform* trans) noexcept {
  impl_of(trans)->stats.reset();
  impl_of(trans)->have_key_ts = false;
  return TRUE;
}

void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  switch (prop_id) {
    case PROP_INTERVAL:
      impl->interval.store(g_value_get_uint64(value));
      break;
    case PROP_GAP_THRESHOLD:
      impl->gap_threshold.store(g_value_get_uint64(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  switch (prop_id) {
    case PROP_INTERVAL:
      g_value_set_uint64(value, impl->interval.load());
      break;
    case PROP_GAP_THRESHOLD:
      g_value_set_uint64(value, impl->gap_threshold.load());
      break;
    case PROP_STATS:
      g_value_take_boxed(value, make_structure(impl->stats.snapshot()));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void finalize(GObject* object) noexcept {
  delete std::exchange(GMS_STATS(object)->impl, nullptr);
  G_OBJECT_CLASS(gms_stats_parent_class)->finalize(object);
}

}  // namespace

static void gms_stats_class_init(GmsStatsClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;

  const auto rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint64("interval", "Report interval",
                          "Post an element message \"msstats\" every this much running time "
                          "(in ns); 0 = never",
                          0, G_MAXUINT64, kDefaultInterval, rw));
  g_object_class_install_property(
      gobject_class, PROP_GAP_THRESHOLD,
      g_param_spec_uint64("gap-threshold", "Gap threshold",
                          "A hole between buffer timestamps longer than this (in ns) counts as a "
                          "gap; 0 = only DISCONT buffers count",
                          0, G_MAXUINT64, kDefaultGapThreshold, rw));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Counters as a GstStructure \"msstats\": buffers, bytes, frames, "
                         "key-frames, gaps, lost-packets (RTP sequence holes) (guint64); bitrate, framerate (last interval, bit/s "
                         "and frames/s), avg-bitrate, avg-framerate (since the first buffer) "
                         "(gdouble); running-time (guint64 ns); last-activity (gint64, wall "
                         "clock in us, 0 = no buffer yet)",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(element_class, "Stream statistics", "Generic",
                                        "Counts buffers, bytes, frames, key frames and gaps; "
                                        "reports bitrate and frame rate",
                                        "gst-mediaserver");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_ip = transform_ip;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->set_caps = set_caps;
  trans_class->sink_event = sink_event;
  trans_class->start = start;
}

static void gms_stats_init(GmsStats* self) {
  self->impl = new Impl();
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
