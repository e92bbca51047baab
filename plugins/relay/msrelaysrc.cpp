/**
 * SECTION:element-msrelaysrc
 * @see_also: msrelaysink
 *
 * The reader end of an in-process relay: RTP packets of the named RelayHub
 * channel, as a live source. Its queue is bounded (max-queue-bytes); when the
 * pipeline behind it cannot keep up the queue is dropped and reading restarts
 * at the next key frame, so the producer and other readers are never slowed.
 * A new reader starts at the cached key frame of the channel (from-cache).
 * When the producer changes, sequence numbers, timestamps and SSRC continue
 * so that viewers see one stream; a producer with another codec (encoding,
 * clock rate or channels) ends the stream with EOS instead. When the channel has had no packet for
 * `timeout` ms (its producer gone, never came, or silent) the source ends with EOS; a producer that
 * has not sent its first packet yet is waited for. Timeout 0 waits for ever.
 * Designed as the pay0 of a gst-rtsp-server media: it outputs RTP as is.
 *
 * Packets carry as PTS the running time at which their media was captured
 * at the source (msrelaysink notes it from the producer's timestamps), and
 * as DTS the running time at which they are sent: a server's RTP session then
 * maps each track's RTP time to the source's capture clock in its RTCP
 * sender reports, alike for the tracks of one source, and a cached GOP still
 * goes out at once. With #GmsRelaySrc:capture-times the DTS is the capture
 * time too: what a recorder needs to keep tracks read from separate channels
 * in step.
 * With #GmsRelaySrc:wall-clock-meta every packet also carries, as a
 * GstReferenceTimestampMeta with caps `timestamp/x-unix`, the wall-clock time
 * of that capture: depayloaders (1.22: gst_rtp_copy_meta keeps a meta without
 * tags) and parsers pass it on, so a recorder can name a file that starts
 * with the cached GOP by when its first frame was live. Every packet, not
 * only a frame's first: rtph264depay turns the parameter-set packets that
 * open a key frame into caps (codec_data), and their metas go with them.
 *
 * The action signal #GmsRelaySrc::get-gop returns the packets output since
 * the last key frame (as sent), oldest first, as a GstBufferList (NULL
 * when there are none): an RTSP server gives them to a viewer that joins a
 * running media, so that its first picture decodes at once.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 msrelaysrc channel=cam1 ! rtph264depay ! avdec_h264 ! autovideosink
 * ]|
 */
#include <gst/base/gstpushsrc.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <mutex>
#include <string>

#include "elements.h"
#include "relay/list_handover.h"
#include "relay/msrelaysrc.h"
#include "relay/relay_hub.h"
#include "relay/rtp_rewriter.h"

GST_DEBUG_CATEGORY(ms_relay_src_debug);  // list_handover.cpp logs in it too
#define GST_CAT_DEFAULT ms_relay_src_debug

namespace {

constexpr guint64 kDefaultQueueBytes = 16u << 20;
constexpr guint kDefaultTimeout = 5000;

enum {
  PROP_0,
  PROP_CHANNEL,
  PROP_MAX_QUEUE_BYTES,
  PROP_FROM_CACHE,
  PROP_TIMEOUT,
  PROP_SSRC,
  PROP_PT,
  PROP_SEQNUM,
  PROP_TIMESTAMP,
  PROP_STATS,
  PROP_CAPTURE_TIMES,
  PROP_WALL_CLOCK_META
};

struct Settings {
  std::string channel;
  guint64 max_queue_bytes = kDefaultQueueBytes;
  bool from_cache = true;
  guint timeout_ms = kDefaultTimeout;
  bool capture_times = false;
  guint ssrc = 0;
  bool wall_clock_meta = false;
};

struct Impl {
  std::mutex lock;  // protects settings and consumer (the pointer, not the object)
  Settings settings;
  std::shared_ptr<gms::relay::Channel> channel;
  std::shared_ptr<gms::relay::Consumer> consumer;
  // Streaming thread only.
  gms::relay::RtpRewriter rewriter;
  gms::Ref<GstCaps> in_caps;
  std::atomic<guint> pt{96};
  std::atomic<guint> first_seq{0}, first_ts{0};  // of the newest list's first packet
  std::optional<gms::relay::Item> pending;      // caps that came during a list
  gms::relay::ListHandover handover;             // of each list to base src
  std::mutex gop_lock;  // protects gop, gop_bytes, gop_valid
  std::vector<gms::Ref<GstBuffer>> gop;  // output since the last key frame
  size_t gop_bytes = 0;
  bool gop_valid = false;
  bool caps_sent = false;
  gint64 started_us = 0;
  // Bytes of RTP pushed since the element was made (never reset): a reader
  // of this element's media got this much since it joined.
  std::atomic<guint64> pushed_bytes{0};
};

}  // namespace

G_BEGIN_DECLS
#define GMS_TYPE_RELAY_SRC (gms_relay_src_get_type())
G_DECLARE_FINAL_TYPE(GmsRelaySrc, gms_relay_src, GMS, RELAY_SRC, GstPushSrc)
G_END_DECLS

struct _GmsRelaySrc {
  GstPushSrc parent;
  Impl* impl;
};

G_DEFINE_TYPE_WITH_CODE(GmsRelaySrc, gms_relay_src, GST_TYPE_PUSH_SRC,
                        GST_DEBUG_CATEGORY_INIT(ms_relay_src_debug, "msrelaysrc", 0,
                                                "in-process relay reader"))
GST_ELEMENT_REGISTER_DEFINE(msrelaysrc, "msrelaysrc", GST_RANK_NONE, GMS_TYPE_RELAY_SRC)

namespace {

GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

Impl& impl(gpointer self) { return *GMS_RELAY_SRC(self)->impl; }

// The reader's caps: the producer's with our SSRC, so that the RTP session
// downstream announces the SSRC the packets carry.
gms::Ref<GstCaps> out_caps(Impl& d) {
  auto caps = gms::Ref<GstCaps>::adopt(gst_caps_copy(d.in_caps.get()));
  if (d.rewriter.ssrc() != 0)
    gst_caps_set_simple(caps.get(), "ssrc", G_TYPE_UINT, d.rewriter.ssrc(), nullptr);
  return caps;
}

// Whether two producers' caps carry the same codec: what the viewers were
// told in the SDP (encoding, clock rate, channels). Parameter sets may
// change; a codec may not.
bool same_codec(GstCaps* a, GstCaps* b) {
  const GstStructure* x = gst_caps_get_structure(a, 0);
  const GstStructure* y = gst_caps_get_structure(b, 0);
  for (const char* field : {"media", "encoding-name", "encoding-params"}) {
    const char* u = gst_structure_get_string(x, field);
    const char* v = gst_structure_get_string(y, field);
    if (g_strcmp0(u, v) != 0)
      return false;
  }
  gint r1 = 0, r2 = 0;
  gst_structure_get_int(x, "clock-rate", &r1);
  gst_structure_get_int(y, "clock-rate", &r2);
  return r1 == r2;
}

void take_caps(Impl& d, GstCaps* caps) {
  d.in_caps = gms::Ref<GstCaps>::borrow(caps);
  gint rate = 0, pt = 0;
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "clock-rate", &rate);
  if (gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &pt))
    d.pt = static_cast<guint>(pt);
  d.rewriter.set_clock_rate(rate > 0 ? static_cast<uint32_t>(rate) : 0);
  d.caps_sent = false;
}

gboolean negotiate(GstBaseSrc* src) noexcept {
  Impl& d = impl(src);
  // Caps come from the producer with the first packet (create()).
  if (!d.in_caps || d.rewriter.ssrc() == 0)
    return TRUE;
  auto caps = out_caps(d);
  return gst_base_src_set_caps(src, caps.get());
}

// Rewrites the packet when the rewriter says so (after a producer change);
// otherwise it passes as is, without a copy.
GstBuffer* rewrite(Impl& d, gms::relay::Item& item) {
  GstBuffer* buf = item.buffer.get();
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return nullptr;
  uint16_t seq = gst_rtp_buffer_get_seq(&rtp);
  uint32_t ts = gst_rtp_buffer_get_timestamp(&rtp);
  uint32_t ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  auto o = d.rewriter.map(item.generation, seq, ts, ssrc, g_get_monotonic_time());
  if (!o.changed)
    return gst_buffer_copy(buf);  // metadata only; the memory is shared
  GstBuffer* out = gst_buffer_copy_deep(buf);
  if (gst_rtp_buffer_map(out, GST_MAP_WRITE, &rtp)) {
    gst_rtp_buffer_set_seq(&rtp, o.seq);
    gst_rtp_buffer_set_timestamp(&rtp, o.ts);
    gst_rtp_buffer_set_ssrc(&rtp, o.ssrc);
    gst_rtp_buffer_unmap(&rtp);
  }
  return out;
}

// Keeps the output since the last key frame for viewers joining later.
void remember(Impl& d, GstBuffer* out, bool key) {
  size_t max;
  bool enabled;
  {
    std::lock_guard<std::mutex> g(d.lock);
    max = d.settings.max_queue_bytes / 2;
    enabled = d.settings.from_cache;
  }
  std::lock_guard<std::mutex> g(d.gop_lock);
  if (!enabled)
    return;
  if (key) {
    d.gop.clear();
    d.gop_bytes = 0;
    d.gop_valid = true;
  }
  if (!d.gop_valid)
    return;
  d.gop.push_back(gms::Ref<GstBuffer>::borrow(out));
  d.gop_bytes += gst_buffer_get_size(out);
  if (d.gop_bytes > max) {
    d.gop.clear();
    d.gop_bytes = 0;
    d.gop_valid = false;
  }
}

// The wall-clock time at which the packet's media was captured (see
// relay::Item), as a timestamp/x-unix reference.
void add_wall_clock_meta(GstBuffer* out, const gms::relay::Item& item) {
  if (item.wall_us <= 0)
    return;
  static GstStaticCaps unix_caps = GST_STATIC_CAPS("timestamp/x-unix");
  auto caps = gms::Ref<GstCaps>::adopt(gst_static_caps_get(&unix_caps));
  gst_buffer_add_reference_timestamp_meta(out, caps.get(), GstClockTime(item.wall_us) * GST_USECOND,
                                          GST_CLOCK_TIME_NONE);
}

// The running time now: every packet of a list is due at once.
GstClockTime running_time(GstElement* e) {
  auto clock = gms::Ref<GstClock>::adopt(gst_element_get_clock(e));
  if (!clock)
    return 0;
  GstClockTime now = gst_clock_get_time(clock.get()), base = gst_element_get_base_time(e);
  return now > base ? now - base : 0;
}

// The running time at which a packet's media was captured, from its age on
// the monotonic clock; 0 when that was before this pipeline started.
GstClockTime capture_running_time(GstClockTime now, gint64 now_mono, gint64 captured_ns) {
  const GstClockTimeDiff age = std::max<gint64>(0, now_mono - captured_ns);
  return GstClockTimeDiff(now) > age ? now - GstClockTime(age) : 0;
}

// Pushes what is queued as one buffer list (up to kMaxList packets): the
// server then sends a burst with one sendmmsg (UDP) and one writev per TCP
// viewer instead of one per packet. Not more: gst-rtsp-server's
// multiudpsink keeps a message array of (list length x viewers) for the
// life of the media, 40 bytes each (with 64, 2.5 KB per UDP viewer for a
// moment's backlog); the kernel takes at most 1024 messages a call anyway,
// so with hundreds of viewers a longer list saves no call.
constexpr guint kMaxList = 16;

GstFlowReturn create(GstPushSrc* psrc, GstBuffer** outbuf) noexcept {
  Impl& d = impl(psrc);
  std::shared_ptr<gms::relay::Consumer> consumer;
  std::shared_ptr<gms::relay::Channel> channel;
  guint timeout_ms;
  bool capture_times;
  bool wall_clock_meta;
  {
    std::lock_guard<std::mutex> g(d.lock);
    consumer = d.consumer;
    channel = d.channel;
    timeout_ms = d.settings.timeout_ms;
    capture_times = d.settings.capture_times;
    wall_clock_meta = d.settings.wall_clock_meta;
  }
  if (!consumer)
    return GST_FLOW_FLUSHING;
  GstBufferList* list = nullptr;  // ours until submitted
  GstClockTime now = GST_CLOCK_TIME_NONE;
  gint64 now_mono = 0;
  for (;;) {
    gms::relay::Item item;
    gms::relay::Consumer::Result r;
    if (d.pending) {
      item = std::move(*d.pending);
      d.pending.reset();
      r = gms::relay::Consumer::Result::kItem;
    } else {
      r = consumer->pop(item, std::chrono::milliseconds(list ? 0 : 100));
    }
    if (r == gms::relay::Consumer::Result::kFlushing) {
      if (list)
        gst_buffer_list_unref(list);
      return GST_FLOW_FLUSHING;
    }
    if (r == gms::relay::Consumer::Result::kTimeout) {
      if (list)
        break;
      if (timeout_ms == 0)
        continue;
      auto st = channel->state();
      // A producer that has not sent yet is waited for; otherwise the
      // silence counts from the channel's last packet: a producer that went
      // quiet before it left (stopped, its connection still open until it
      // is cut off) has used up that part of the time already.
      if (st.producer && st.last_data_us < st.producer_joined_us)
        continue;
      gint64 quiet_since = std::max(st.last_data_us, d.started_us);
      if (g_get_monotonic_time() - quiet_since > gint64(timeout_ms) * 1000) {
        GST_INFO_OBJECT(psrc, "no packet for %u ms (producer %s): end of stream", timeout_ms,
                        st.producer ? "silent" : "gone");
        return GST_FLOW_EOS;
      }
      continue;
    }
    if (item.caps) {
      if (list) {  // new caps apply to the next list
        d.pending = std::move(item);
        break;
      }
      if (d.in_caps && !same_codec(d.in_caps.get(), item.caps.get())) {
        // A new producer with another codec (an override, a back end that
        // came back re-encoded): the viewers' SDP no longer describes the
        // packets. End their stream; they reconnect and get the new SDP.
        GST_INFO_OBJECT(psrc, "the producer changed codec (%" GST_PTR_FORMAT "): end of stream",
                        item.caps.get());
        return GST_FLOW_EOS;
      }
      take_caps(d, item.caps.get());
      continue;
    }
    if (!d.in_caps)
      continue;  // no caps yet: cannot describe the packet
    GstBuffer* out = rewrite(d, item);
    if (!out)
      continue;
    if (!d.caps_sent) {
      auto caps = out_caps(d);
      if (!gst_base_src_set_caps(GST_BASE_SRC(psrc), caps.get())) {
        gst_buffer_unref(out);
        GST_ELEMENT_ERROR(psrc, CORE, NEGOTIATION, ("caps refused downstream"),
                          ("%" GST_PTR_FORMAT, caps.get()));
        return GST_FLOW_NOT_NEGOTIATED;
      }
      d.caps_sent = true;
    }
    if (!list) {
      list = gst_buffer_list_new_sized(kMaxList);
      now = running_time(GST_ELEMENT(psrc));
      now_mono = g_get_monotonic_time() * 1000;
      // RTP-Info of a media's first viewer: this list is what it gets first.
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      if (gst_rtp_buffer_map(out, GST_MAP_READ, &rtp)) {
        d.first_seq = gst_rtp_buffer_get_seq(&rtp);
        d.first_ts = gst_rtp_buffer_get_timestamp(&rtp);
        gst_rtp_buffer_unmap(&rtp);
      }
    }
    out = gst_buffer_make_writable(out);
    // PTS: when the packet's media was captured (as far back as the running
    // time goes). An RTP session pairs a list's first PTS with its RTP time
    // for its sender reports, so the reports map every track's RTP time to
    // the source's capture clock, the same for all tracks of one source.
    // DTS: when it is sent, never decreasing, as the server's TCP backlog
    // requires (its sinks do not sync here). With capture-times both are
    // the capture time, for a recorder's muxer.
    const GstClockTime captured = capture_running_time(now, now_mono, item.captured_ns);
    GST_BUFFER_PTS(out) = captured;
    GST_BUFFER_DTS(out) = capture_times ? captured : now;
    // Which packets start a picture that decodes on its own, for those who
    // pick a starting point downstream (a server holding joiners back).
    if (item.key)
      GST_BUFFER_FLAG_UNSET(out, GST_BUFFER_FLAG_DELTA_UNIT);
    else
      GST_BUFFER_FLAG_SET(out, GST_BUFFER_FLAG_DELTA_UNIT);
    if (wall_clock_meta)
      add_wall_clock_meta(out, item);
    remember(d, out, item.key);
    gst_buffer_list_add(list, out);
    if (gst_buffer_list_length(list) >= kMaxList)
      break;
  }
  d.pushed_bytes.fetch_add(gst_buffer_list_calculate_size(list), std::memory_order_relaxed);
  // Not while the source leaves PLAYING: base src 1.22 would unref a NULL
  // buffer (list_handover.h).
  if (GstFlowReturn playing = d.handover.claim(GST_BASE_SRC(psrc)); playing != GST_FLOW_OK) {
    gst_buffer_list_unref(list);
    return playing;
  }
  gst_base_src_submit_buffer_list(GST_BASE_SRC(psrc), list);
  *outbuf = nullptr;
  return GST_FLOW_OK;
}

gboolean start(GstBaseSrc* src) noexcept {
  Impl& d = impl(src);
  std::lock_guard<std::mutex> g(d.lock);
  if (d.settings.channel.empty()) {
    GST_ELEMENT_ERROR(src, RESOURCE, SETTINGS, ("no channel name set"), (nullptr));
    return FALSE;
  }
  d.rewriter = gms::relay::RtpRewriter();
  d.rewriter.set_ssrc(d.settings.ssrc);
  d.in_caps = {};
  d.pending.reset();
  d.caps_sent = false;
  d.started_us = g_get_monotonic_time();
  {
    std::lock_guard<std::mutex> gg(d.gop_lock);
    d.gop.clear();
    d.gop_bytes = 0;
    d.gop_valid = false;
  }
  d.channel = gms::relay::Hub::instance().channel(d.settings.channel);
  d.consumer = d.channel->subscribe(d.settings.max_queue_bytes, d.settings.from_cache);
  GST_INFO_OBJECT(src, "reading channel %s", d.settings.channel.c_str());
  return TRUE;
}

gboolean stop(GstBaseSrc* src) noexcept {
  Impl& d = impl(src);
  d.handover.reset();
  std::lock_guard<std::mutex> g(d.lock);
  if (d.channel && d.consumer)
    d.channel->unsubscribe(d.consumer);
  d.consumer.reset();
  d.channel.reset();
  return TRUE;
}

gboolean unlock(GstBaseSrc* src) noexcept {
  Impl& d = impl(src);
  std::lock_guard<std::mutex> g(d.lock);
  if (d.consumer)
    d.consumer->set_flushing(true);
  return TRUE;
}

gboolean unlock_stop(GstBaseSrc* src) noexcept {
  Impl& d = impl(src);
  std::lock_guard<std::mutex> g(d.lock);
  if (d.consumer)
    d.consumer->set_flushing(false);
  return TRUE;
}

// Base src's first call into us after it saw that the source still plays,
// with the list create() submitted. No clock sync, as without this function.
void get_times(GstBaseSrc* src, GstBuffer*, GstClockTime* start, GstClockTime* end) noexcept {
  impl(src).handover.passed();
  *start = *end = GST_CLOCK_TIME_NONE;
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) noexcept {
  auto* parent = GST_ELEMENT_CLASS(gms_relay_src_parent_class);
  if (transition != GST_STATE_CHANGE_PLAYING_TO_PAUSED)
    return parent->change_state(element, transition);
  auto held = impl(element).handover.hold_pause(GST_BASE_SRC(element));
  return parent->change_state(element, transition);
}

gboolean query(GstBaseSrc* src, GstQuery* q) noexcept {
  if (GST_QUERY_TYPE(q) == GST_QUERY_LATENCY) {
    gst_query_set_latency(q, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(gms_relay_src_parent_class)->query(src, q);
}

void set_property(GObject* obj, guint id, const GValue* value, GParamSpec* pspec) noexcept {
  Impl& d = impl(obj);
  std::lock_guard<std::mutex> g(d.lock);
  switch (id) {
    case PROP_CHANNEL: {
      const char* s = g_value_get_string(value);
      d.settings.channel = s ? s : "";
      break;
    }
    case PROP_MAX_QUEUE_BYTES:
      d.settings.max_queue_bytes = g_value_get_uint64(value);
      break;
    case PROP_FROM_CACHE:
      d.settings.from_cache = g_value_get_boolean(value);
      break;
    case PROP_TIMEOUT:
      d.settings.timeout_ms = g_value_get_uint(value);
      break;
    case PROP_SSRC:
      d.settings.ssrc = g_value_get_uint(value);
      break;
    case PROP_CAPTURE_TIMES:
      d.settings.capture_times = g_value_get_boolean(value);
      break;
    case PROP_WALL_CLOCK_META:
      d.settings.wall_clock_meta = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  }
}

void get_property(GObject* obj, guint id, GValue* value, GParamSpec* pspec) noexcept {
  Impl& d = impl(obj);
  std::lock_guard<std::mutex> g(d.lock);
  switch (id) {
    case PROP_CHANNEL:
      g_value_set_string(value, d.settings.channel.c_str());
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64(value, d.settings.max_queue_bytes);
      break;
    case PROP_FROM_CACHE:
      g_value_set_boolean(value, d.settings.from_cache);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, d.settings.timeout_ms);
      break;
    case PROP_SSRC:
      g_value_set_uint(value, d.settings.ssrc);
      break;
    case PROP_CAPTURE_TIMES:
      g_value_set_boolean(value, d.settings.capture_times);
      break;
    case PROP_WALL_CLOCK_META:
      g_value_set_boolean(value, d.settings.wall_clock_meta);
      break;
    case PROP_PT:
      g_value_set_uint(value, d.pt);
      break;
    case PROP_SEQNUM:
      g_value_set_uint(value, d.first_seq);
      break;
    case PROP_TIMESTAMP:
      g_value_set_uint(value, d.first_ts);
      break;
    case PROP_STATS:
      g_value_take_boxed(
          value, gst_structure_new("application/x-ms-relay-src-stats", "pushed", G_TYPE_UINT64,
                                   guint64(d.consumer ? d.consumer->pushed() : 0), "dropped",
                                   G_TYPE_UINT64, guint64(d.consumer ? d.consumer->dropped() : 0),
                                   "queued-bytes", G_TYPE_UINT64,
                                   guint64(d.consumer ? d.consumer->queued_bytes() : 0),
                                   "pushed-bytes", G_TYPE_UINT64, guint64(d.pushed_bytes.load()),
                                   nullptr));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  }
}

void finalize(GObject* obj) noexcept {
  delete GMS_RELAY_SRC(obj)->impl;
  G_OBJECT_CLASS(gms_relay_src_parent_class)->finalize(obj);
}

}  // namespace

static void gms_relay_src_class_init(GmsRelaySrcClass* klass) {
  auto* gobject = G_OBJECT_CLASS(klass);
  auto* element = GST_ELEMENT_CLASS(klass);
  auto* base = GST_BASE_SRC_CLASS(klass);
  gobject->set_property = set_property;
  gobject->get_property = get_property;
  gobject->finalize = finalize;
  auto rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject, PROP_CHANNEL,
      g_param_spec_string("channel", "Channel", "Name of the relay channel to read", nullptr, rw));
  g_object_class_install_property(
      gobject, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64("max-queue-bytes", "Max queue bytes",
                          "Bytes queued for this reader before its backlog is dropped and it "
                          "restarts at the next key frame",
                          1024, G_MAXUINT64, kDefaultQueueBytes, rw));
  g_object_class_install_property(
      gobject, PROP_FROM_CACHE,
      g_param_spec_boolean("from-cache", "From cache",
                           "Start at the channel's cached key frame (else at the next one)", TRUE,
                           rw));
  g_object_class_install_property(
      gobject, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "End of stream after no packet for this long (ms): the producer gone, "
                        "absent or silent; 0 = wait for ever",
                        0, G_MAXUINT, kDefaultTimeout, rw));
  g_object_class_install_property(
      gobject, PROP_SSRC,
      g_param_spec_uint("ssrc", "SSRC", "SSRC of the output (0 = the first producer's)", 0,
                        G_MAXUINT, 0, rw));
  g_object_class_install_property(
      gobject, PROP_PT,
      g_param_spec_uint("pt", "Payload type",
                        "Payload type of the packets (the producer's; read by gst-rtsp-server)",
                        0, 127, 96, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  // gst-rtsp-server's RTP-Info for the first viewer of a media, before any
  // packet was sent: the packet output last is the one held by the media's
  // preroll block, i.e. the first one the viewer gets.
  g_object_class_install_property(
      gobject, PROP_SEQNUM,
      g_param_spec_uint("seqnum", "Sequence number",
                        "Sequence number of the first packet of the newest list output",
                        0, G_MAXUINT16, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject, PROP_TIMESTAMP,
      g_param_spec_uint("timestamp", "Timestamp",
                        "RTP timestamp of the first packet of the newest list output", 0,
                        G_MAXUINT, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject, PROP_STATS,
      // Not "stats": gst-rtsp-server reads a payloader's "stats" for RTP-Info
      // (seqnum-offset, timestamp), which a relay cannot know before it sends.
      g_param_spec_boxed("relay-stats", "Relay statistics", "pushed, dropped, queued-bytes, pushed-bytes (since the element was made)",
                         GST_TYPE_STRUCTURE,
                         GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject, PROP_CAPTURE_TIMES,
      g_param_spec_boolean(
          "capture-times", "Capture times",
          "Stamp each packet's DTS too (not only its PTS) with the running time at which its "
          "media was captured at the source (as the producer's timestamps say) instead of when "
          "it is sent: the tracks of "
          "one source read by several msrelaysrc keep their relative timing (lip sync), and a "
          "cached GOP keeps its spacing. A time before this pipeline's start becomes 0: set the "
          "pipeline's base time some seconds back (a recorder does)",
          FALSE, rw));
  g_object_class_install_property(
      gobject, PROP_WALL_CLOCK_META,
      g_param_spec_boolean("wall-clock-meta", "Wall-clock meta",
                           "Put on every packet a reference timestamp meta "
                           "(caps timestamp/x-unix, ns since the epoch): the wall-clock time the "
                           "packet's media was captured at the source, which for the cached GOP "
                           "is earlier than its sending",
                           FALSE, rw));
  gst_element_class_add_static_pad_template(element, &src_template);
  gst_element_class_set_static_metadata(element, "Relay source", "Source/Network/RTP",
                                        "Reads RTP from an in-process relay channel",
                                        "gst-mediaserver");
  /**
   * GmsRelaySrc::get-gop:
   * @src: the msrelaysrc
   *
   * The packets output since the last key frame, as sent (after rewriting),
   * oldest first; NULL if the GOP cache is off or no key frame was output
   * yet.
   *
   * Returns: (transfer full) (nullable): a #GstBufferList
   */
  g_signal_new_class_handler(
      "get-gop", G_TYPE_FROM_CLASS(klass), GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(+[](GstElement* src) noexcept -> GstBufferList* {
        auto gop = gms::relay::relay_src_gop(src);
        if (gop.empty())
          return nullptr;
        GstBufferList* list = gst_buffer_list_new_sized(guint(gop.size()));
        for (auto& b : gop)
          gst_buffer_list_add(list, gst_buffer_ref(b.get()));
        return list;
      }),
      nullptr, nullptr, nullptr, GST_TYPE_BUFFER_LIST, 0);
  base->negotiate = negotiate;
  base->start = start;
  base->stop = stop;
  base->unlock = unlock;
  base->unlock_stop = unlock_stop;
  base->query = query;
  base->get_times = get_times;
  element->change_state = change_state;
  GST_PUSH_SRC_CLASS(klass)->create = create;
}

namespace gms::relay {

std::vector<Ref<GstBuffer>> relay_src_gop(GstElement* element) {
  if (!element || !G_TYPE_CHECK_INSTANCE_TYPE(element, GMS_TYPE_RELAY_SRC))
    return {};
  Impl& d = impl(element);
  std::lock_guard<std::mutex> g(d.gop_lock);
  return d.gop;
}

}  // namespace gms::relay

static void gms_relay_src_init(GmsRelaySrc* self) {
  self->impl = new Impl();
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  // Buffer lists are stamped in create(): base src stamps single buffers only.
  gst_base_src_set_do_timestamp(GST_BASE_SRC(self), FALSE);
}
