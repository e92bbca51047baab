#include "mounts/key_snap.h"

namespace gms::mounts {
namespace {

GstClockTime time_of(GstBuffer* buffer) {
  return GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
}

// The demuxer's segment, moved to start at the key frame: running time 0
// (and so the RTP-Info and the Range of the PLAY reply) is that frame.
GstEvent* segment_from(GstEvent* event, GstClockTime key) {
  const GstSegment* in = nullptr;
  gst_event_parse_segment(event, &in);
  GstSegment s = *in;
  if (s.format == GST_FORMAT_TIME && s.rate > 0 && GST_CLOCK_TIME_IS_VALID(key)) {
    s.start = key;
    s.time = key;
    s.position = key;
    if (GST_CLOCK_TIME_IS_VALID(s.stop) && s.stop < key)
      s.stop = key;
  }
  GstEvent* out = gst_event_new_segment(&s);
  gst_event_set_seqnum(out, gst_event_get_seqnum(event));
  return out;
}

}  // namespace

GstClockTime KeySnap::arm(GstClockTime start) {
  std::lock_guard<std::mutex> g(lock_);
  if (!enabled_ || !GST_CLOCK_TIME_IS_VALID(start) || start == 0) {
    armed_ = GST_CLOCK_TIME_NONE;
    return GST_CLOCK_TIME_NONE;
  }
  armed_ = start;
  return start > kLookback ? start - kLookback : 0;
}

void KeySnap::add_track(GstPad* pad, bool video) {
  std::lock_guard<std::mutex> g(lock_);
  if (video && !key_pad_)
    key_pad_ = pad;
}

GstPadProbeReturn KeySnap::probe(GstPad* pad, GstPadProbeInfo* info, gpointer self) noexcept {
  auto* snap = static_cast<KeySnap*>(self);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
    return snap->on_buffer(pad, info);
  if (GST_PAD_PROBE_INFO_TYPE(info) & (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                       GST_PAD_PROBE_TYPE_EVENT_FLUSH))
    return snap->on_event(pad, GST_PAD_PROBE_INFO_EVENT(info));
  return GST_PAD_PROBE_OK;
}

void KeySnap::drop_held_buffers() {
  std::vector<Held> keep;
  for (auto& h : held_) {
    if (GST_IS_EVENT(h.item))
      keep.push_back(h);
    else
      gst_mini_object_unref(h.item);
  }
  held_.swap(keep);
}

// Under the lock: hands the held items over and stops holding.
void KeySnap::release(std::vector<Held>& out) {
  out.swap(held_);
  held_.clear();
  holding_ = false;
  releasing_ = true;
}

// Streaming thread, without the lock: our probe lets these through
// (releasing_), in the order the demuxer sent them.
void KeySnap::push(const std::vector<Held>& items, GstClockTime key) {
  for (const auto& h : items) {
    if (GST_IS_EVENT(h.item)) {
      auto* event = GST_EVENT_CAST(h.item);
      if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
        gst_pad_push_event(h.pad, segment_from(event, key));
        gst_event_unref(event);
      } else {
        gst_pad_push_event(h.pad, event);
      }
      continue;
    }
    auto* buffer = GST_BUFFER_CAST(h.item);
    GstClockTime t = time_of(buffer);
    GstClockTime end = GST_BUFFER_DURATION_IS_VALID(buffer) ? t + GST_BUFFER_DURATION(buffer) : t;
    // Other tracks start with the key frame too (an audio frame across it
    // is kept).
    if (GST_CLOCK_TIME_IS_VALID(key) && GST_CLOCK_TIME_IS_VALID(t) && end <= key && t < key) {
      gst_buffer_unref(buffer);
      continue;
    }
    gst_pad_push(h.pad, buffer);
  }
}

GstPadProbeReturn KeySnap::on_buffer(GstPad* pad, GstPadProbeInfo* info) {
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime t = time_of(buffer);
  std::vector<Held> out;
  GstClockTime key;
  {
    std::lock_guard<std::mutex> g(lock_);
    if (!holding_ || releasing_)
      return GST_PAD_PROBE_OK;
    bool decides = key_pad_ ? pad == key_pad_ : true;
    bool past = GST_CLOCK_TIME_IS_VALID(t) && t > target_;
    if (decides && !key_pad_ && GST_CLOCK_TIME_IS_VALID(t) && t >= target_) {
      key_ = target_;  // no video: the other tracks start at the target
      past = true;
    } else if (decides && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT) &&
               GST_CLOCK_TIME_IS_VALID(t) && (!past || !GST_CLOCK_TIME_IS_VALID(key_))) {
      // A key frame at or before the target, or the first one after it
      // when the window held none (a GOP longer than kLookback).
      drop_held_buffers();
      key_ = t;
      if (!past) {
        held_.push_back({pad, GST_MINI_OBJECT_CAST(gst_buffer_ref(buffer))});
        return GST_PAD_PROBE_DROP;
      }
    }
    if (!decides || !past) {
      held_.push_back({pad, GST_MINI_OBJECT_CAST(gst_buffer_ref(buffer))});
      return GST_PAD_PROBE_DROP;
    }
    if (!GST_CLOCK_TIME_IS_VALID(key_))
      return GST_PAD_PROBE_DROP;  // past the target, still no key frame
    key = key_;
    release(out);
  }
  push(out, key);
  std::lock_guard<std::mutex> g(lock_);
  releasing_ = false;
  return GST_PAD_PROBE_OK;  // this buffer follows what was held
}

GstPadProbeReturn KeySnap::on_event(GstPad* pad, GstEvent* event) {
  std::vector<Held> out;
  GstClockTime key;
  {
    std::lock_guard<std::mutex> g(lock_);
    if (releasing_)
      return GST_PAD_PROBE_OK;
    if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
      // A seek's flush reaches every track with the seek's seqnum, and
      // mpegpsdemux handles one seek once per track (it does not skip the
      // seqnum it handled, as tsdemux does), reading again from the start:
      // every flush of the snapped seek starts holding again. An armed seek
      // starts snapping; any other ends it.
      guint32 seqnum = gst_event_get_seqnum(event);
      bool again = seqnum == seqnum_ && GST_CLOCK_TIME_IS_VALID(target_);
      if (GST_CLOCK_TIME_IS_VALID(armed_) || again || holding_) {
        for (auto& h : held_)
          gst_mini_object_unref(h.item);
        held_.clear();
        if (GST_CLOCK_TIME_IS_VALID(armed_)) {
          target_ = armed_;
          seqnum_ = seqnum;
        } else if (!again) {
          target_ = GST_CLOCK_TIME_NONE;
        }
        holding_ = GST_CLOCK_TIME_IS_VALID(target_);
        armed_ = GST_CLOCK_TIME_NONE;
        key_ = GST_CLOCK_TIME_NONE;
      }
      return GST_PAD_PROBE_OK;
    }
    if (!holding_ || !(gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED))
      return GST_PAD_PROBE_OK;
    if (GST_EVENT_TYPE(event) != GST_EVENT_EOS) {
      held_.push_back({pad, GST_MINI_OBJECT_CAST(gst_event_ref(event))});
      return GST_PAD_PROBE_DROP;
    }
    key = key_;  // the file ended before the target: send what is held
    release(out);
  }
  push(out, key);
  std::lock_guard<std::mutex> g(lock_);
  releasing_ = false;
  return GST_PAD_PROBE_OK;
}

}  // namespace gms::mounts
