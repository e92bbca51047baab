/**
 * SECTION:element-msnormalize
 * @title: msnormalize
 *
 * Maps incoming PTS/DTS onto one monotonic output timeline, the idea of
 * live555's PresentationTimeSessionNormalizer extended to survive source
 * restarts. The first buffer keeps its running time; afterwards an input step
 * larger than #GmsNormalize:max-jump (forward or back, e.g. a source that
 * restarted with new timestamps) is a discontinuity: the output continues
 * just after the last output (+ one frame duration estimate) instead of
 * leaping or going back, and that buffer is marked DISCONT. Output DTS never
 * decreases. Buffers without timestamps pass unchanged.
 *
 * Elements with the same #GmsNormalize:group in one process share one
 * timeline, so the tracks of one source keep their relative timing across a
 * restart (the first track to see it re-anchors the group, the others follow).
 * Put the elements of a group at the same stage of the pipelines (all on RTP
 * packets, or all on depayloaded media), so their input times are comparable.
 *
 * On application/x-rtp the element also rewrites RTP sequence numbers and
 * timestamps so they continue across a restart (new SSRC, sequence or
 * timestamp jump) instead of going back, and keeps the first SSRC; the
 * ssrc, seqnum-base and clock-base caps fields are removed downstream. RTP
 * packets' PTS (arrival times) are kept non-decreasing like a DTS; buffers
 * that are not valid RTP packets are dropped (and counted).
 *
 * Upstream QoS and force-key-unit events are mapped back to the input
 * timeline.
 *
 * The output is a TIME segment starting at 1000 hours (as x264enc does), and
 * buffer timestamps are the normalized running time plus those 1000 hours, so
 * a DTS before the first PTS stays valid. Input must be in TIME format (other
 * formats pass timestamps unchanged).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rtspsrc location=rtsp://cam/stream name=s \
 *   s. ! rtph264depay ! h264parse ! msnormalize group=cam1 ! mux. \
 *   s. ! rtpmp4gdepay ! aacparse ! msnormalize group=cam1 ! mux. \
 *   matroskamux name=mux ! filesink location=out.mkv
 * ]|
 */
#include "msnormalize.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video-event.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "elements.h"
#include "normalizer_group.h"

GST_DEBUG_CATEGORY_STATIC(gms_normalize_debug);
#define GST_CAT_DEFAULT gms_normalize_debug

namespace {

constexpr guint64 kDefaultMaxJump = GST_SECOND;

enum { PROP_0, PROP_GROUP, PROP_MAX_JUMP, PROP_WALLCLOCK, PROP_DISCONTINUITIES, PROP_INVALID_RTP };

struct Settings {
  std::string group;
  gms::NormalizerSettings normalizer;
};

// C++ state of the element; made with new in init, deleted in finalize.
struct Impl {
  std::mutex settings_mutex;  // protects settings; held only to copy them
  Settings settings;

  // Streaming-thread state (created in start(), dropped in stop()).
  std::unique_ptr<gms::NormalizerTrack> track;
  GstSegment in_segment{};
  bool time_segment = false;
  bool is_rtp = false;
  guint32 clock_rate = 0;

  std::atomic<guint64> discontinuities{0};
  std::atomic<guint64> invalid_rtp{0};

  Settings copy_settings() {
    std::lock_guard lock(settings_mutex);
    return settings;
  }
  // Per buffer: the plain values only (no string copy on the hot path).
  gms::NormalizerSettings copy_normalizer_settings() {
    std::lock_guard lock(settings_mutex);
    return settings.normalizer;
  }
};

}  // namespace

struct _GmsNormalize {
  GstBaseTransform parent;
  Impl* impl;
};

G_DEFINE_TYPE_WITH_CODE(GmsNormalize, gms_normalize, GST_TYPE_BASE_TRANSFORM,
                        GST_DEBUG_CATEGORY_INIT(gms_normalize_debug, "msnormalize", 0,
                                                "mediaserver timestamp normalizer"))
GST_ELEMENT_REGISTER_DEFINE(msnormalize, "msnormalize", GST_RANK_NONE, GMS_TYPE_NORMALIZE)

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

Impl* impl_of(gpointer obj) { return GMS_NORMALIZE(obj)->impl; }

// Running time of `ts` on the input segment + GMS_NORMALIZE_OUTPUT_BIAS, so a
// DTS shortly before the segment start still maps; NONE when unset.
GstClockTime to_biased_running_time(const Impl* impl, GstClockTime ts) {
  if (!GST_CLOCK_TIME_IS_VALID(ts))
    return GST_CLOCK_TIME_NONE;
  guint64 rt = 0;
  const int sign = gst_segment_to_running_time_full(&impl->in_segment, GST_FORMAT_TIME, ts, &rt);
  if (sign > 0)
    return rt + GMS_NORMALIZE_OUTPUT_BIAS;
  if (sign < 0 && rt <= GMS_NORMALIZE_OUTPUT_BIAS)
    return GMS_NORMALIZE_OUTPUT_BIAS - rt;
  return GST_CLOCK_TIME_NONE;
}

GstFlowReturn transform_ip(GstBaseTransform* trans, GstBuffer* buf) noexcept {
  Impl* impl = impl_of(trans);
  if (!impl->track)
    return GST_FLOW_OK;
  gms::NormalizerSettings settings = impl->copy_normalizer_settings();
  settings.monotonic_pts = impl->is_rtp;  // RTP packets go out in order: so must their PTS

  gms::TimestampIn in;
  if (impl->time_segment) {
    in.pts = to_biased_running_time(impl, GST_BUFFER_PTS(buf));
    in.dts = to_biased_running_time(impl, GST_BUFFER_DTS(buf));
    in.duration = GST_BUFFER_DURATION(buf);
    if (settings.wallclock)
      in.now = GstClockTime(g_get_monotonic_time()) * 1000;
  }

  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  const bool mapped = impl->is_rtp && gst_rtp_buffer_map(buf, GST_MAP_READWRITE, &rtp);
  gms::RtpIn rtp_in;
  if (mapped) {
    rtp_in.seq = gst_rtp_buffer_get_seq(&rtp);
    rtp_in.ts = gst_rtp_buffer_get_timestamp(&rtp);
    rtp_in.ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    rtp_in.clock_rate = impl->clock_rate;
  } else if (impl->is_rtp) {
    // Forwarding it would put a foreign SSRC or numbering into our stream.
    GST_WARNING_OBJECT(trans, "not an RTP packet (%" G_GSIZE_FORMAT " bytes): dropped", gst_buffer_get_size(buf));
    impl->invalid_rtp.fetch_add(1, std::memory_order_relaxed);
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }

  const gms::Decision d = impl->track->push(in, settings, mapped ? &rtp_in : nullptr);

  if (mapped) {
    gst_rtp_buffer_set_seq(&rtp, d.rtp->seq);
    gst_rtp_buffer_set_timestamp(&rtp, d.rtp->ts);
    gst_rtp_buffer_set_ssrc(&rtp, d.rtp->ssrc);
    gst_rtp_buffer_unmap(&rtp);
  }
  if (impl->time_segment) {
    GST_BUFFER_PTS(buf) = d.pts;
    GST_BUFFER_DTS(buf) = d.dts;
  }
  if (d.discont) {
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    impl->discontinuities.fetch_add(1, std::memory_order_relaxed);
    GST_INFO_OBJECT(trans, "discontinuity: re-anchored at PTS %" GST_TIME_FORMAT " DTS %" GST_TIME_FORMAT,
                    GST_TIME_ARGS(d.pts), GST_TIME_ARGS(d.dts));
  }
  return GST_FLOW_OK;
}

gboolean sink_event(GstBaseTransform* trans, GstEvent* event) noexcept {
  Impl* impl = impl_of(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT: {
      gst_event_copy_segment(event, &impl->in_segment);
      impl->time_segment = impl->in_segment.format == GST_FORMAT_TIME;
      if (impl->time_segment) {
        // Our timestamps are running times + bias: announce a segment that
        // makes them running times again.
        GstSegment out;
        gst_segment_init(&out, GST_FORMAT_TIME);
        out.start = GMS_NORMALIZE_OUTPUT_BIAS;
        GstEvent* ours = gst_event_new_segment(&out);
        gst_event_set_seqnum(ours, gst_event_get_seqnum(event));
        gst_event_unref(event);
        event = ours;
      }
      break;
    }
    case GST_EVENT_GAP:
      if (impl->time_segment && impl->track) {
        GstClockTime ts, dur;
        gst_event_parse_gap(event, &ts, &dur);
        const GstClockTime out = impl->track->peek(to_biased_running_time(impl, ts));
        gst_event_unref(event);
        if (!GST_CLOCK_TIME_IS_VALID(out))
          return TRUE;  // nothing mapped yet: the gap has no place on our timeline
        event = gst_event_new_gap(out, dur);
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      if (impl->track) {
        gboolean reset_time = FALSE;
        gst_event_parse_flush_stop(event, &reset_time);
        impl->track->flush(reset_time);
      }
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(gms_normalize_parent_class)->sink_event(trans, event);
}

// Upstream events carry running times of our output: map them back to the
// input timeline so an encoder upstream forces its key frame, or applies QoS,
// at the right moment even after a re-anchor.
GstClockTime output_rt_to_input_rt(Impl* impl, GstClockTime out_rt) {
  if (!impl->track || !impl->time_segment || !GST_CLOCK_TIME_IS_VALID(out_rt))
    return GST_CLOCK_TIME_NONE;
  const GstClockTime in = impl->track->to_input(out_rt + GMS_NORMALIZE_OUTPUT_BIAS);
  if (!GST_CLOCK_TIME_IS_VALID(in) || in < GMS_NORMALIZE_OUTPUT_BIAS)
    return GST_CLOCK_TIME_NONE;
  return in - GMS_NORMALIZE_OUTPUT_BIAS;
}

gboolean src_event(GstBaseTransform* trans, GstEvent* event) noexcept {
  Impl* impl = impl_of(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_QOS) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime ts;
    gst_event_parse_qos(event, &type, &proportion, &diff, &ts);
    const GstClockTime in = output_rt_to_input_rt(impl, ts);
    GstEvent* mapped = GST_CLOCK_TIME_IS_VALID(in) ? gst_event_new_qos(type, proportion, diff, in) : nullptr;
    if (mapped)
      gst_event_set_seqnum(mapped, gst_event_get_seqnum(event));
    gst_event_unref(event);
    if (!mapped)
      return TRUE;  // no place on the input timeline
    event = mapped;
  } else if (gst_video_event_is_force_key_unit(event) && GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM) {
    GstClockTime rt = GST_CLOCK_TIME_NONE;
    gboolean all_headers = FALSE;
    guint count = 0;
    if (gst_video_event_parse_upstream_force_key_unit(event, &rt, &all_headers, &count) &&
        GST_CLOCK_TIME_IS_VALID(rt)) {
      // Unknown mapping: ask for a key frame as soon as possible instead.
      GstEvent* mapped = gst_video_event_new_upstream_force_key_unit(output_rt_to_input_rt(impl, rt), all_headers, count);
      gst_event_set_seqnum(mapped, gst_event_get_seqnum(event));
      gst_event_unref(event);
      event = mapped;
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gms_normalize_parent_class)->src_event(trans, event);
}

// RTP caps lose the fields we rewrite (ssrc, numbering bases) in both
// directions, so upstream and downstream negotiate freely.
GstCaps* transform_caps(GstBaseTransform*, GstPadDirection, GstCaps* caps, GstCaps* filter) noexcept {
  GstCaps* res = gst_caps_copy(caps);
  for (guint i = 0; i < gst_caps_get_size(res); i++) {
    GstStructure* s = gst_caps_get_structure(res, i);
    if (gst_structure_has_name(s, "application/x-rtp"))
      gst_structure_remove_fields(s, "ssrc", "seqnum-base", "clock-base", nullptr);
  }
  if (filter) {
    GstCaps* both = gst_caps_intersect_full(filter, res, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(res);
    res = both;
  }
  return res;
}

gboolean set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) noexcept {
  Impl* impl = impl_of(trans);
  const GstStructure* s = gst_caps_get_structure(incaps, 0);
  impl->is_rtp = s && gst_structure_has_name(s, "application/x-rtp");
  gint rate = 0;
  impl->clock_rate = impl->is_rtp && gst_structure_get_int(s, "clock-rate", &rate) && rate > 0 ? guint32(rate) : 0;
  GST_DEBUG_OBJECT(trans, "caps %" GST_PTR_FORMAT ", rtp %d clock-rate %u", incaps, impl->is_rtp, impl->clock_rate);
  return TRUE;
}

gboolean start(GstBaseTransform* trans) noexcept {
  Impl* impl = impl_of(trans);
  const Settings settings = impl->copy_settings();
  try {
    impl->track = std::make_unique<gms::NormalizerTrack>(gms::NormalizerGroup::acquire(settings.group));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(trans, CORE, FAILED, ("Cannot join normalizer group"), ("%s", e.what()));
    return FALSE;
  }
  gst_segment_init(&impl->in_segment, GST_FORMAT_UNDEFINED);
  impl->time_segment = false;
  impl->discontinuities.store(0);
  impl->invalid_rtp.store(0);
  GST_DEBUG_OBJECT(trans, "joined group '%s'", settings.group.c_str());
  return TRUE;
}

gboolean stop(GstBaseTransform* trans) noexcept {
  impl_of(trans)->track.reset();  // leaves the group; the last one out frees it
  return TRUE;
}

void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  std::lock_guard lock(impl->settings_mutex);
  switch (prop_id) {
    case PROP_GROUP: {
      const char* g = g_value_get_string(value);
      impl->settings.group = g ? g : "";
      break;
    }
    case PROP_MAX_JUMP:
      impl->settings.normalizer.max_jump = g_value_get_uint64(value);
      break;
    case PROP_WALLCLOCK:
      impl->settings.normalizer.wallclock = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  if (prop_id == PROP_DISCONTINUITIES) {
    g_value_set_uint64(value, impl->discontinuities.load());
    return;
  }
  if (prop_id == PROP_INVALID_RTP) {
    g_value_set_uint64(value, impl->invalid_rtp.load());
    return;
  }
  std::lock_guard lock(impl->settings_mutex);
  switch (prop_id) {
    case PROP_GROUP:
      g_value_set_string(value, impl->settings.group.c_str());
      break;
    case PROP_MAX_JUMP:
      g_value_set_uint64(value, impl->settings.normalizer.max_jump);
      break;
    case PROP_WALLCLOCK:
      g_value_set_boolean(value, impl->settings.normalizer.wallclock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void finalize(GObject* object) noexcept {
  delete std::exchange(GMS_NORMALIZE(object)->impl, nullptr);
  G_OBJECT_CLASS(gms_normalize_parent_class)->finalize(object);
}

}  // namespace

static void gms_normalize_class_init(GmsNormalizeClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;

  g_object_class_install_property(
      gobject_class, PROP_GROUP,
      g_param_spec_string("group", "Group",
                          "Elements with the same group name in one process share one output "
                          "timeline, so the tracks of a source keep their relative timing; "
                          "empty = a timeline of its own. Read when going to PAUSED",
                          "", GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_MAX_JUMP,
      g_param_spec_uint64("max-jump", "Maximum jump",
                          "An input timestamp step larger than this (in ns, forward or back) is "
                          "a discontinuity (e.g. a source restart): the output continues after "
                          "the last output + one frame instead of leaping or going back",
                          GST_MSECOND, G_MAXUINT64, kDefaultMaxJump,
                          GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_WALLCLOCK,
      g_param_spec_boolean("wallclock", "Wall clock",
                           "Anchor the timeline to the wall clock at the first buffer: after a "
                           "discontinuity the output resumes where the elapsed wall-clock time "
                           "says (an outage leaves a hole of its length, as recordings want, and "
                           "a live pipeline stays in step with its clock) instead of right after "
                           "the last buffer",
                           FALSE,
                           GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_DISCONTINUITIES,
      g_param_spec_uint64("discontinuities", "Discontinuities",
                          "Buffers this element marked DISCONT because it re-anchored the "
                          "timeline or the RTP numbering (since going to PAUSED)",
                          0, G_MAXUINT64, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_INVALID_RTP,
      g_param_spec_uint64("invalid-rtp", "Invalid RTP packets",
                          "Buffers on RTP caps that were not valid RTP packets and were dropped "
                          "(since going to PAUSED)",
                          0, G_MAXUINT64, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(element_class, "Timestamp normalizer", "Filter/Timestamp",
                                        "Maps timestamps and RTP numbering of a group of tracks onto "
                                        "one monotonic timeline that survives source restarts",
                                        "gst-mediaserver");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_ip = transform_ip;
  trans_class->transform_caps = transform_caps;
  trans_class->set_caps = set_caps;
  trans_class->sink_event = sink_event;
  trans_class->src_event = src_event;
  trans_class->start = start;
  trans_class->stop = stop;
  trans_class->passthrough_on_same_caps = FALSE;
}

static void gms_normalize_init(GmsNormalize* self) {
  self->impl = new Impl();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
