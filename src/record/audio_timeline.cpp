#include "record/audio_timeline.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>

namespace gms::record {

void AudioTimeline::start_window(GstClockTime media) {
  window_start_ = media;
  earliest_ = G_MAXINT64;
  latest_ = G_MININT64;
}

// Once per second of audio: the earliest packet tells how late the
// timeline may be, the latest how early (arrival times are late by the
// network and the sender's packing, never early).
void AudioTimeline::steer() {
  if (earliest_ > GstClockTimeDiff(kAlign))
    offset_ += earliest_;
  else if (latest_ < -GstClockTimeDiff(kAlign))
    back_ = std::max(back_, GstClockTime(-latest_));
}

// The offset shrinks by back_ only once that much audio has been dropped:
// the next packet kept then starts no earlier than the last one kept ended.
bool AudioTimeline::dropping(GstClockTime media) {
  if (back_ == 0)
    return false;
  if (!dropping_) {
    dropping_ = true;
    drop_from_ = media;
    return true;
  }
  if (media < drop_from_ || media - drop_from_ < back_)
    return true;
  offset_ -= GstClockTimeDiff(back_);
  back_ = 0;
  dropping_ = false;
  start_window(media);
  return false;
}

GstClockTime AudioTimeline::place(GstClockTime capture, GstClockTime media) {
  if (!GST_CLOCK_TIME_IS_VALID(capture) || !GST_CLOCK_TIME_IS_VALID(media))
    return capture;
  if (!started_) {
    started_ = true;
    offset_ = GST_CLOCK_DIFF(media, capture);
    last_media_ = media;
    start_window(media);
  }
  if (media < last_media_)  // older than a packet placed: out of order
    return GST_CLOCK_TIME_NONE;
  GstClockTimeDiff off = GST_CLOCK_DIFF(GstClockTimeDiff(media) + offset_, capture);
  if (off > GstClockTimeDiff(kJump)) {  // a gap: follow at once
    offset_ += off;
    off = 0;
    back_ = 0;
    dropping_ = false;
    start_window(media);
  } else if (off < -GstClockTimeDiff(kJump)) {
    back_ = std::max(back_, GstClockTime(-off));
  }
  earliest_ = std::min(earliest_, off);
  latest_ = std::max(latest_, off);
  if (dropping(media))
    return GST_CLOCK_TIME_NONE;
  last_media_ = media;
  const GstClockTimeDiff at = GstClockTimeDiff(media) + offset_;
  if (media - window_start_ >= kWindow) {
    steer();
    start_window(media);
  }
  return GstClockTime(std::max<GstClockTimeDiff>(at, 0));
}

namespace {

struct Track {
  AudioTimeline timeline;
  gint clock_rate = 0;
  guint64 ext_ts = -1;  // gst_rtp_buffer_ext_timestamp's state
};

// Where a packet goes; false: drop it.
bool place(Track& t, GstBuffer* b, GstClockTime& at) {
  at = GST_CLOCK_TIME_NONE;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (t.clock_rate <= 0 || !gst_rtp_buffer_map(b, GST_MAP_READ, &rtp))
    return true;
  const guint32 ts = gst_rtp_buffer_get_timestamp(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  const guint64 ext = gst_rtp_buffer_ext_timestamp(&t.ext_ts, ts);
  const GstClockTime media = gst_util_uint64_scale_int(ext, GST_SECOND, t.clock_rate);
  const GstClockTime capture = GST_BUFFER_PTS_IS_VALID(b) ? GST_BUFFER_PTS(b) : GST_BUFFER_DTS(b);
  at = t.timeline.place(capture, media);
  return GST_CLOCK_TIME_IS_VALID(at) || !GST_CLOCK_TIME_IS_VALID(capture);
}

bool moves(GstBuffer* b, GstClockTime at) {
  return GST_CLOCK_TIME_IS_VALID(at) && (GST_BUFFER_PTS(b) != at || GST_BUFFER_DTS(b) != at);
}

void stamp(GstBuffer* b, GstClockTime at) {
  GST_BUFFER_PTS(b) = at;
  GST_BUFFER_DTS(b) = at;
}

void on_event(Track& t, GstEvent* event) {
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const GstStructure* s = caps && !gst_caps_is_empty(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
      gint rate = 0;
      if (s && gst_structure_get_int(s, "clock-rate", &rate) && rate != t.clock_rate) {
        t = Track();
        t.clock_rate = rate;
      }
      break;
    }
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_STOP:
      t.timeline.reset();
      t.ext_ts = -1;
      break;
    default:
      break;
  }
}

GstPadProbeReturn on_list(Track& t, GstBufferList** list) {
  *list = gst_buffer_list_make_writable(*list);
  for (guint i = 0; i < gst_buffer_list_length(*list);) {
    GstClockTime at;
    if (!place(t, gst_buffer_list_get(*list, i), at)) {
      gst_buffer_list_remove(*list, i, 1);
      continue;
    }
    if (moves(gst_buffer_list_get(*list, i), at))
      stamp(gst_buffer_list_get_writable(*list, i), at);
    ++i;
  }
  return gst_buffer_list_length(*list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& t = *static_cast<Track*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    on_event(t, GST_PAD_PROBE_INFO_EVENT(info));
    return GST_PAD_PROBE_OK;
  }
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    return on_list(t, reinterpret_cast<GstBufferList**>(&GST_PAD_PROBE_INFO_DATA(info)));
  auto** b = reinterpret_cast<GstBuffer**>(&GST_PAD_PROBE_INFO_DATA(info));
  GstClockTime at;
  if (!place(t, *b, at))
    return GST_PAD_PROBE_DROP;
  if (moves(*b, at)) {
    *b = gst_buffer_make_writable(*b);
    stamp(*b, at);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void keep_audio_in_time(GstPad* pad) {
  gst_pad_add_probe(pad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    on_data, new Track(), [](gpointer p) noexcept { delete static_cast<Track*>(p); });
}

}  // namespace gms::record
