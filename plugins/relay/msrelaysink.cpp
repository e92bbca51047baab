/**
 * SECTION:element-msrelaysink
 * @see_also: msrelaysrc
 *
 * The producer end of an in-process relay: RTP packets and caps go into the
 * named channel of the process-wide RelayHub, where any number of msrelaysrc
 * elements (in other pipelines) read them. The sink never waits for its
 * readers. It marks the packets that start a key frame per codec (H.264,
 * H.265, VP8, VP9, JPEG; every audio packet) and keeps the packets since the
 * last one (the GOP cache) so that a new reader starts with a picture.
 * In-band H.264 parameter sets update the caps' sprop-parameter-sets.
 * A producer whose RTP timestamps run more than max-ahead ahead of the wall
 * clock (it sends faster than real time) gets an element error.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency ! rtph264pay ! msrelaysink channel=cam1
 * ]|
 */
#include <gst/base/gstbasesink.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "elements.h"
#include "relay/relay_hub.h"
#include "relay/rtp_keyframe.h"

GST_DEBUG_CATEGORY_STATIC(ms_relay_sink_debug);
#define GST_CAT_DEFAULT ms_relay_sink_debug

namespace {

constexpr guint64 kDefaultCacheBytes = 8u << 20;
constexpr guint kDefaultMaxAhead = 5000;

enum { PROP_0, PROP_CHANNEL, PROP_GOP_CACHE, PROP_GOP_CACHE_BYTES, PROP_MAX_AHEAD, PROP_STATS };

struct Settings {
  std::string channel;
  bool gop_cache = true;
  guint64 cache_bytes = kDefaultCacheBytes;
  guint max_ahead_ms = kDefaultMaxAhead;
};

// Runtime state of the streaming thread (created in start, dropped in stop).
struct State {
  std::shared_ptr<gms::relay::Channel> channel;
  uint64_t producer = 0;
  gms::relay::Codec codec = gms::relay::Codec::kUnknown;
  gms::Ref<GstCaps> caps;
  uint32_t clock_rate = 0;
  bool have_key_ts = false;
  uint32_t key_ts = 0;
  // Faster-than-real-time check: RTP time elapsed vs wall time elapsed.
  bool have_anchor = false;
  int64_t anchor_us = 0;
  uint32_t last_ts = 0;
  int64_t media_ticks = 0;  // unwrapped RTP ticks since the anchor
  // In-band parameter sets of the access unit being read (H.264: sps, pps;
  // H.265: vps, sps, pps).
  std::vector<std::string> vps, sps, pps;
};

struct Impl {
  std::mutex settings_lock;  // protects settings
  Settings settings;
  std::shared_ptr<gms::relay::Channel> stats_channel;  // guarded by settings_lock
  State state;  // streaming thread only (and start/stop)
  std::atomic<guint64> packets{0}, bytes{0}, key_frames{0};
  std::atomic<gint64> last_data_us{0};  // monotonic time of the last packet; 0: none yet
};

}  // namespace

G_BEGIN_DECLS
#define GMS_TYPE_RELAY_SINK (gms_relay_sink_get_type())
G_DECLARE_FINAL_TYPE(GmsRelaySink, gms_relay_sink, GMS, RELAY_SINK, GstBaseSink)
G_END_DECLS

struct _GmsRelaySink {
  GstBaseSink parent;
  Impl* impl;
};

G_DEFINE_TYPE_WITH_CODE(GmsRelaySink, gms_relay_sink, GST_TYPE_BASE_SINK,
                        GST_DEBUG_CATEGORY_INIT(ms_relay_sink_debug, "msrelaysink", 0,
                                                "in-process relay producer"))
GST_ELEMENT_REGISTER_DEFINE(msrelaysink, "msrelaysink", GST_RANK_NONE, GMS_TYPE_RELAY_SINK)

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

Impl& impl(gpointer self) { return *GMS_RELAY_SINK(self)->impl; }

std::string b64(const uint8_t* p, size_t n) {
  gms::GCharPtr s(g_base64_encode(p, n));
  return s.get();
}

// An access unit may repeat a set, and sets can arrive over several packets
// before the key frame: keep each one once.
void add_once(std::vector<std::string>& v, std::string set) {
  if (std::find(v.begin(), v.end(), set) == v.end())
    v.push_back(std::move(set));
}

// Collects H.264 SPS/PPS NAL units (single or STAP-A) of one packet.
void collect_h264_sets(const uint8_t* p, size_t n, State& st) {
  gms::relay::for_each_nal(gms::relay::Codec::kH264, p, n, [&](const uint8_t* nal, size_t len) {
    uint8_t type = nal[0] & 0x1f;
    if (type == 7)
      add_once(st.sps, b64(nal, len));
    else if (type == 8)
      add_once(st.pps, b64(nal, len));
  });
}

// Collects H.265 VPS/SPS/PPS NAL units (single or aggregation packet).
void collect_h265_sets(const uint8_t* p, size_t n, State& st) {
  gms::relay::for_each_nal(gms::relay::Codec::kH265, p, n, [&](const uint8_t* nal, size_t len) {
    uint8_t type = (nal[0] >> 1) & 0x3f;
    if (type == 32)
      add_once(st.vps, b64(nal, len));
    else if (type == 33)
      add_once(st.sps, b64(nal, len));
    else if (type == 34)
      add_once(st.pps, b64(nal, len));
  });
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += (s.empty() ? "" : ",") + x;
  return s;
}

// H.265: sprop-vps/sps/pps, each replaced when seen in band.
void update_sprop_h265(State& st) {
  if (st.sps.empty() || st.pps.empty() || !st.caps) {
    st.vps.clear();
    st.sps.clear();
    st.pps.clear();
    return;
  }
  auto caps = gms::Ref<GstCaps>::adopt(gst_caps_copy(st.caps.get()));
  GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  bool changed = false;
  for (auto [field, values] : {std::pair{"sprop-vps", &st.vps}, std::pair{"sprop-sps", &st.sps},
                               std::pair{"sprop-pps", &st.pps}}) {
    if (values->empty())
      continue;
    std::string v = join(*values);
    const char* old = gst_structure_get_string(s, field);
    if (!old || v != old) {
      gst_structure_set(s, field, G_TYPE_STRING, v.c_str(), nullptr);
      changed = true;
    }
    values->clear();
  }
  if (!changed)
    return;
  GST_INFO("in-band H.265 parameter sets changed");
  st.caps = caps;
  st.channel->set_caps(st.producer, caps.get());
}

// New caps when the in-band parameter sets differ from the announced ones.
void update_sprop(State& st) {
  if (st.sps.empty() || st.pps.empty() || !st.caps)
    return;
  std::string sprop;
  for (const auto& v : {st.sps, st.pps})
    for (const auto& s : v)
      sprop += (sprop.empty() ? "" : ",") + s;
  st.sps.clear();
  st.pps.clear();
  const GstStructure* s = gst_caps_get_structure(st.caps.get(), 0);
  const char* old = gst_structure_get_string(s, "sprop-parameter-sets");
  if (old && sprop == old)
    return;
  auto caps = gms::Ref<GstCaps>::adopt(gst_caps_copy(st.caps.get()));
  gst_caps_set_simple(caps.get(), "sprop-parameter-sets", G_TYPE_STRING, sprop.c_str(), nullptr);
  GST_INFO("in-band parameter sets changed: %s", sprop.c_str());
  st.caps = caps;
  st.channel->set_caps(st.producer, caps.get());
}

// Caps for readers: the producer's, without what belongs to one sender.
gms::Ref<GstCaps> reader_caps(GstCaps* in) {
  auto caps = gms::Ref<GstCaps>::adopt(gst_caps_copy(in));
  GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  gst_structure_remove_fields(s, "ssrc", "seqnum-base", "clock-base", "npt-start", "npt-stop",
                              "play-speed", "play-scale", "onvif-mode", nullptr);
  // "a=ssrc:N cname:…" of the publisher's SDP arrives as "ssrc-N-cname";
  // the server would put it into the viewers' fmtp.
  gst_structure_filter_and_map_in_place(
      s,
      [](GQuark field, GValue*, gpointer) noexcept -> gboolean {
        return !g_str_has_prefix(g_quark_to_string(field), "ssrc-");
      },
      nullptr);
  return caps;
}

gboolean set_caps(GstBaseSink* sink, GstCaps* caps) noexcept {
  State& st = impl(sink).state;
  if (!st.channel)
    return FALSE;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const char* enc = gst_structure_get_string(s, "encoding-name");
  const char* media = gst_structure_get_string(s, "media");
  st.codec = gms::relay::codec_from_encoding(enc ? enc : "", media ? media : "");
  gint rate = 0;
  gst_structure_get_int(s, "clock-rate", &rate);
  st.clock_rate = rate > 0 ? static_cast<uint32_t>(rate) : 0;
  st.caps = reader_caps(caps);
  st.channel->set_caps(st.producer, st.caps.get());
  GST_DEBUG_OBJECT(sink, "caps %" GST_PTR_FORMAT, caps);
  return TRUE;
}

// True when the producer runs far ahead of real time.
bool too_fast(State& st, uint32_t ts, guint max_ahead_ms) {
  if (max_ahead_ms == 0 || st.clock_rate == 0)
    return false;
  int64_t now = g_get_monotonic_time();
  if (!st.have_anchor) {
    st.have_anchor = true;
    st.anchor_us = now;
    st.last_ts = ts;
    st.media_ticks = 0;
    return false;
  }
  int32_t delta = static_cast<int32_t>(ts - st.last_ts);
  st.last_ts = ts;
  // A jump of more than 10 s is a discontinuity, not speed: re-anchor.
  if (delta > int64_t(st.clock_rate) * 10 || delta < -int64_t(st.clock_rate) * 10) {
    st.anchor_us = now;
    st.media_ticks = 0;
    return false;
  }
  st.media_ticks += delta;
  int64_t media_ms = st.media_ticks * 1000 / st.clock_rate;
  int64_t wall_ms = (now - st.anchor_us) / 1000;
  return media_ms - wall_ms > int64_t(max_ahead_ms);
}

// Older than this by its timestamp, a packet counts as captured when it
// came (a source with odd timestamps): relay readers hold their media at
// most this far back.
constexpr GstClockTimeDiff kMaxCaptureAge = 20 * GST_SECOND;

// When the packet's media was captured, in g_get_monotonic_time's clock
// (ns): its running time here, aged by this pipeline's clock (a payloader
// keeps a frame's capture time; a receiving jitterbuffer, its arrival).
// Readers of the channels of one source thus see its tracks in step,
// whatever their encoders' delays or a cached GOP's age.
gint64 captured_at(GstBaseSink* sink, GstBuffer* buffer) {
  const gint64 now = g_get_monotonic_time() * 1000;
  const GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer)
                                                          : GST_BUFFER_DTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(ts) || sink->segment.format != GST_FORMAT_TIME)
    return now;
  const GstClockTime rt = gst_segment_to_running_time(&sink->segment, GST_FORMAT_TIME, ts);
  auto clock = gms::Ref<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(sink)));
  if (!clock || !GST_CLOCK_TIME_IS_VALID(rt))
    return now;
  const GstClockTimeDiff age = GstClockTimeDiff(gst_clock_get_time(clock.get())) -
                               GstClockTimeDiff(rt + gst_element_get_base_time(GST_ELEMENT(sink)));
  return age > 0 && age < kMaxCaptureAge ? now - age : now;
}

GstFlowReturn render(GstBaseSink* sink, GstBuffer* buffer) noexcept {
  Impl& d = impl(sink);
  State& st = d.state;
  if (!st.channel)
    return GST_FLOW_FLUSHING;
  guint max_ahead;
  {
    std::lock_guard<std::mutex> g(d.settings_lock);
    max_ahead = d.settings.max_ahead_ms;
  }
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
    GST_DEBUG_OBJECT(sink, "not an RTP packet; dropped");
    return GST_FLOW_OK;
  }
  uint32_t ts = gst_rtp_buffer_get_timestamp(&rtp);
  auto* payload = static_cast<const uint8_t*>(gst_rtp_buffer_get_payload(&rtp));
  size_t size = gst_rtp_buffer_get_payload_len(&rtp);
  gms::relay::KeyInfo k = gms::relay::inspect_payload(st.codec, payload, size);
  if (k.parameter_sets && st.codec == gms::relay::Codec::kH264)
    collect_h264_sets(payload, size, st);
  if (k.parameter_sets && st.codec == gms::relay::Codec::kH265)
    collect_h265_sets(payload, size, st);
  gst_rtp_buffer_unmap(&rtp);

  if (too_fast(st, ts, max_ahead)) {
    GST_ELEMENT_ERROR(sink, STREAM, FAILED, ("the producer sends faster than real time"),
                      ("RTP time is more than %u ms ahead of the wall clock", max_ahead));
    return GST_FLOW_ERROR;
  }
  // A key frame starts at its first key packet; later packets of the same
  // access unit (same timestamp) continue it.
  bool key_start = k.key && !(st.have_key_ts && st.key_ts == ts);
  if (k.key) {
    st.have_key_ts = true;
    st.key_ts = ts;
  }
  // Parameter sets come before the slices they serve: once a packet without
  // them follows, the set is complete; new caps if it changed.
  if (!k.parameter_sets && (!st.vps.empty() || !st.sps.empty() || !st.pps.empty())) {
    if (st.codec == gms::relay::Codec::kH264)
      update_sprop(st);
    else
      update_sprop_h265(st);
    st.vps.clear();
    st.sps.clear();
    st.pps.clear();
  }
  if (key_start && st.codec != gms::relay::Codec::kAudio)
    d.key_frames++;
  d.packets++;
  d.last_data_us.store(g_get_monotonic_time(), std::memory_order_relaxed);
  d.bytes += gst_buffer_get_size(buffer);
  st.channel->push(st.producer, buffer, key_start, captured_at(sink, buffer));
  return GST_FLOW_OK;
}

gboolean start(GstBaseSink* sink) noexcept {
  Impl& d = impl(sink);
  Settings s;
  {
    std::lock_guard<std::mutex> g(d.settings_lock);
    s = d.settings;
  }
  if (s.channel.empty()) {
    GST_ELEMENT_ERROR(sink, RESOURCE, SETTINGS, ("no channel name set"), (nullptr));
    return FALSE;
  }
  d.state = State{};
  d.state.channel = gms::relay::Hub::instance().channel(s.channel);
  d.state.channel->configure_cache(s.gop_cache, s.cache_bytes);
  d.state.producer = d.state.channel->attach_producer();
  {
    std::lock_guard<std::mutex> g(d.settings_lock);
    d.stats_channel = d.state.channel;
  }
  GST_INFO_OBJECT(sink, "producing into channel %s", s.channel.c_str());
  return TRUE;
}

gboolean stop(GstBaseSink* sink) noexcept {
  {
    std::lock_guard<std::mutex> g(impl(sink).settings_lock);
    impl(sink).stats_channel.reset();
  }
  State& st = impl(sink).state;
  if (st.channel)
    st.channel->detach_producer(st.producer);
  st = State{};
  return TRUE;
}

GstStructure* make_stats(Impl& d) {
  size_t cached = 0, consumers = 0;
  std::shared_ptr<gms::relay::Channel> ch;
  {
    std::lock_guard<std::mutex> g(d.settings_lock);
    ch = d.stats_channel;
  }
  if (ch) {
    auto s = ch->state();
    cached = s.cached_bytes;
    consumers = s.consumers;
  }
  return gst_structure_new("application/x-ms-relay-sink-stats", "packets", G_TYPE_UINT64,
                           guint64(d.packets), "bytes", G_TYPE_UINT64, guint64(d.bytes),
                           "key-frames", G_TYPE_UINT64, guint64(d.key_frames), "cached-bytes",
                           G_TYPE_UINT64, guint64(cached), "readers", G_TYPE_UINT64,
                           guint64(consumers), "last-data-time", G_TYPE_INT64,
                           gint64(d.last_data_us.load(std::memory_order_relaxed)), nullptr);
}

void set_property(GObject* obj, guint id, const GValue* value, GParamSpec* pspec) noexcept {
  Impl& d = impl(obj);
  std::lock_guard<std::mutex> g(d.settings_lock);
  switch (id) {
    case PROP_CHANNEL: {
      const char* s = g_value_get_string(value);
      d.settings.channel = s ? s : "";
      break;
    }
    case PROP_GOP_CACHE:
      d.settings.gop_cache = g_value_get_boolean(value);
      break;
    case PROP_GOP_CACHE_BYTES:
      d.settings.cache_bytes = g_value_get_uint64(value);
      break;
    case PROP_MAX_AHEAD:
      d.settings.max_ahead_ms = g_value_get_uint(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  }
}

void get_property(GObject* obj, guint id, GValue* value, GParamSpec* pspec) noexcept {
  Impl& d = impl(obj);
  if (id == PROP_STATS) {
    g_value_take_boxed(value, make_stats(d));
    return;
  }
  std::lock_guard<std::mutex> g(d.settings_lock);
  switch (id) {
    case PROP_CHANNEL:
      g_value_set_string(value, d.settings.channel.c_str());
      break;
    case PROP_GOP_CACHE:
      g_value_set_boolean(value, d.settings.gop_cache);
      break;
    case PROP_GOP_CACHE_BYTES:
      g_value_set_uint64(value, d.settings.cache_bytes);
      break;
    case PROP_MAX_AHEAD:
      g_value_set_uint(value, d.settings.max_ahead_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  }
}

void finalize(GObject* obj) noexcept {
  delete GMS_RELAY_SINK(obj)->impl;
  G_OBJECT_CLASS(gms_relay_sink_parent_class)->finalize(obj);
}

}  // namespace

static void gms_relay_sink_class_init(GmsRelaySinkClass* klass) {
  auto* gobject = G_OBJECT_CLASS(klass);
  auto* element = GST_ELEMENT_CLASS(klass);
  auto* base = GST_BASE_SINK_CLASS(klass);
  gobject->set_property = set_property;
  gobject->get_property = get_property;
  gobject->finalize = finalize;
  auto rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject, PROP_CHANNEL,
      g_param_spec_string("channel", "Channel",
                          "Name of the relay channel to produce into (msrelaysrc reads it)",
                          nullptr, rw));
  g_object_class_install_property(
      gobject, PROP_GOP_CACHE,
      g_param_spec_boolean("gop-cache", "GOP cache",
                           "Keep the packets since the last key frame so that a new reader "
                           "starts with a picture",
                           TRUE, rw));
  g_object_class_install_property(
      gobject, PROP_GOP_CACHE_BYTES,
      g_param_spec_uint64("gop-cache-bytes", "GOP cache bytes",
                          "Largest GOP kept (bytes); a larger one is not cached", 0, G_MAXUINT64,
                          kDefaultCacheBytes, rw));
  g_object_class_install_property(
      gobject, PROP_MAX_AHEAD,
      g_param_spec_uint("max-ahead", "Max ahead",
                        "Error when RTP time runs this far ahead of the wall clock (ms; the "
                        "producer sends faster than real time). 0 = no check",
                        0, G_MAXUINT, kDefaultMaxAhead,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                    GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "packets, bytes, key-frames, cached-bytes, readers, last-data-time "
                         "(monotonic µs of the last packet, g_get_monotonic_time's clock; 0: none)",
                         GST_TYPE_STRUCTURE,
                         GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  gst_element_class_add_static_pad_template(element, &sink_template);
  gst_element_class_set_static_metadata(element, "Relay sink", "Sink/Network/RTP",
                                        "Produces RTP into an in-process relay channel",
                                        "gst-mediaserver");
  base->set_caps = set_caps;
  base->render = render;
  base->start = start;
  base->stop = stop;
}

static void gms_relay_sink_init(GmsRelaySink* self) {
  self->impl = new Impl();
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
  gst_base_sink_set_async_enabled(GST_BASE_SINK(self), FALSE);
}
