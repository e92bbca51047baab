#include "core/seek_rtp_info.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "core/media_progress.h"
#include "gms/ref.h"

GST_DEBUG_CATEGORY_STATIC(gms_rtp_info_debug);
#define GST_CAT_DEFAULT gms_rtp_info_debug

namespace gms {
namespace {

const char kFirstPacket[] = "gms-first-packet";

void init_debug() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(gms_rtp_info_debug, "gmsrtpinfo", 0,
                            "gst-mediaserver RTP-Info after a seek");
    g_once_init_leave(&once, 1);
  }
}

// One stream's first RTP packet since the last flush (or since watching).
struct FirstPacket {
  std::mutex lock;  // protects everything below
  bool have = false;
  guint16 seq = 0;
  guint32 rtptime = 0;
  gint clock_rate = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstSegment segment{};  // the packet's (TIME)
  // Woken once the packet is kept (set before the probe is added).
  std::shared_ptr<MediaProgress> progress;
};
using FirstPacketPtr = std::shared_ptr<FirstPacket>;

// Streaming thread: remembers the first packet; a flush forgets it.
GstPadProbeReturn on_payloader_data(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& first = **static_cast<FirstPacketPtr*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_FLUSH) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_STOP) {
      std::lock_guard<std::mutex> g(first.lock);
      first.have = false;
    }
    return GST_PAD_PROBE_OK;
  }
  {
    std::lock_guard<std::mutex> g(first.lock);
    if (first.have)
      return GST_PAD_PROBE_OK;
  }
  GstBuffer* buffer = nullptr;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    buffer = gst_buffer_list_length(list) > 0 ? gst_buffer_list_get(list, 0) : nullptr;
  } else {
    buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  }
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!buffer || !gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  guint16 seq = gst_rtp_buffer_get_seq(&rtp);
  guint32 rtptime = gst_rtp_buffer_get_timestamp(&rtp);
  gst_rtp_buffer_unmap(&rtp);

  gint clock_rate = 0;
  if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "clock-rate", &clock_rate);
    gst_caps_unref(caps);
  }
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_UNDEFINED);
  if (GstEvent* event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* s = nullptr;
    gst_event_parse_segment(event, &s);
    gst_segment_copy_into(s, &segment);
    gst_event_unref(event);
  }
  {
    std::lock_guard<std::mutex> g(first.lock);
    first.have = true;
    first.seq = seq;
    first.rtptime = rtptime;
    first.clock_rate = clock_rate;
    first.pts = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
    first.segment = segment;
  }
  first.progress->notify();
  return GST_PAD_PROBE_OK;
}

FirstPacketPtr first_packet_of(GstRTSPStream* stream) {
  auto* p = static_cast<FirstPacketPtr*>(g_object_get_data(G_OBJECT(stream), kFirstPacket));
  return p ? *p : nullptr;
}

// What one stream's first packet says, copied out of its lock.
struct Sample {
  GstRTSPStreamTransport* transport;
  guint16 seq;
  guint32 rtptime;
  gint clock_rate;
  gint64 running_time;  // of the packet's RTP timestamp
  gint64 start;         // of the Range's start in the packet's segment; valid if has_start
  bool has_start;
};

// The running time the payloader made the packet's RTP timestamp from:
// rtpbasepayload takes 0 for a time before its segment
// (gstrtpbasepayload.c:gst_rtp_base_payload_prepare_push, "Clipped pts"),
// as for qtdemux's audio frame across the key frame it seeked to.
gint64 packet_running_time(const GstSegment& segment, GstClockTime pts) {
  guint64 rt = 0;
  if (gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, pts, &rt) <= 0)
    return 0;
  return gint64(rt);
}

// The running time of stream time `npt` in `segment`, signed.
bool npt_running_time(const GstSegment& segment, GstClockTime npt, gint64& out) {
  guint64 position = 0;
  if (gst_segment_position_from_stream_time_full(&segment, GST_FORMAT_TIME, npt, &position) <= 0)
    return false;
  guint64 rt = 0;
  int sign = gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, position, &rt);
  if (sign == 0)
    return false;
  out = sign > 0 ? gint64(rt) : -gint64(rt);
  return true;
}

bool sample_of(GstRTSPStreamTransport* transport, GstClockTime npt_start, Sample& out) {
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(transport);
  FirstPacketPtr first = stream ? first_packet_of(stream) : nullptr;
  if (!first)
    return false;
  std::lock_guard<std::mutex> g(first->lock);
  if (!first->have || first->clock_rate <= 0 || first->segment.format != GST_FORMAT_TIME ||
      !GST_CLOCK_TIME_IS_VALID(first->pts))
    return false;
  out.transport = transport;
  out.seq = first->seq;
  out.rtptime = first->rtptime;
  out.clock_rate = first->clock_rate;
  out.running_time = packet_running_time(first->segment, first->pts);
  out.has_start = GST_CLOCK_TIME_IS_VALID(npt_start) &&
                  npt_running_time(first->segment, npt_start, out.start);
  return true;
}

// Whether a stream may still send its first packet after the seek.
bool may_still_send(GstRTSPStreamTransport* transport) {
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(transport);
  auto pad = Ref<GstPad>::adopt(stream ? gst_rtsp_stream_get_srcpad(stream) : nullptr);
  return pad && !GST_PAD_IS_EOS(pad.get());
}

// rtptime + (to - from) in clock-rate units, modulo 2^32.
guint32 shift(guint32 rtptime, gint64 from, gint64 to, gint clock_rate) {
  guint64 ticks = gst_util_uint64_scale_int(guint64(to > from ? to - from : from - to),
                                            clock_rate, GST_SECOND);
  return to > from ? guint32(rtptime + ticks) : guint32(rtptime - ticks);
}

}  // namespace

void watch_first_packets(GstRTSPMedia* media) {
  init_debug();
  auto progress = MediaProgress::of(media);
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    if (!stream || !gst_rtsp_stream_is_sender(stream))
      continue;
    if (FirstPacketPtr first = first_packet_of(stream)) {
      std::lock_guard<std::mutex> g(first->lock);
      first->have = false;  // a packet before this seek's flush is not the one
      continue;
    }
    auto pad = Ref<GstPad>::adopt(gst_rtsp_stream_get_srcpad(stream));
    if (!pad)
      continue;
    auto first = std::make_shared<FirstPacket>();
    first->progress = progress;
    g_object_set_data_full(G_OBJECT(stream), kFirstPacket, new FirstPacketPtr(first),
                           [](gpointer p) { delete static_cast<FirstPacketPtr*>(p); });
    // The probe holds its own reference: the pad may outlive the stream.
    gst_pad_add_probe(pad.get(),
                      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                      GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                      on_payloader_data, new FirstPacketPtr(first),
                      [](gpointer p) { delete static_cast<FirstPacketPtr*>(p); });
  }
}

std::string rtp_info_from_first_packets(GstRTSPSessionMedia* sessmedia, GstClockTime npt_start,
                                        gint64 wait_us) {
  init_debug();
  UniquePtr<GPtrArray, g_ptr_array_unref> transports(
      gst_rtsp_session_media_get_transports(sessmedia));
  if (!transports)
    return {};
  std::vector<GstRTSPStreamTransport*> senders;  // borrowed from `transports`
  for (guint i = 0; i < transports->len; ++i) {
    auto* t = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports.get(), i));
    if (t && gst_rtsp_stream_is_sender(gst_rtsp_stream_transport_get_stream(t)))
      senders.push_back(t);
  }
  // The library waited for the seek's preroll, when every stream has sent
  // (and blocked on) its first packet; the wait is for a stream that had
  // not, bounded.
  std::vector<Sample> samples;
  auto deadline = MediaProgress::Clock::now() + std::chrono::microseconds(wait_us);
  auto progress = MediaProgress::of(gst_rtsp_session_media_get_media(sessmedia));
  for (GstRTSPStreamTransport* t : senders) {
    Sample s{};
    progress->wait_until([&] { return sample_of(t, npt_start, s) || !may_still_send(t); },
                         deadline);
    if (!sample_of(t, npt_start, s)) {
      GST_INFO("stream without a first packet after the seek: RTP-Info left to the library");
      return {};
    }
    samples.push_back(s);
  }
  if (samples.empty())
    return {};

  // Without a Range start in every stream's segment, the first packets'
  // earliest is the reference, as the library means it.
  bool every_start = true;
  gint64 earliest = samples.front().running_time;
  for (const Sample& s : samples) {
    every_start = every_start && s.has_start;
    earliest = std::min(earliest, s.running_time);
  }
  std::string info;
  for (const Sample& s : samples) {
    gint64 reference = every_start ? s.start : earliest;
    guint32 rtptime = shift(s.rtptime, s.running_time, reference, s.clock_rate);
    GST_DEBUG("seq %u rtptime %u at running time %" G_GINT64_FORMAT " -> rtptime %u at %"
              G_GINT64_FORMAT,
              s.seq, s.rtptime, s.running_time, rtptime, reference);
    GCharPtr url(gst_rtsp_url_get_request_uri(gst_rtsp_stream_transport_get_url(s.transport)));
    if (!info.empty())
      info += ", ";
    info += std::string("url=") + (url ? url.get() : "") + ";seq=" + std::to_string(s.seq) +
            ";rtptime=" + std::to_string(rtptime);
  }
  return info;
}

}  // namespace gms
