// Key-frame snapping for demuxers that do not seek to key frames themselves
// (tsdemux, mpegpsdemux): a file PLAY with a Range starts at the key frame
// at or before the asked time, as qtdemux and matroskademux do.
#pragma once

#include <gst/gst.h>

#include <mutex>
#include <vector>

namespace gms::mounts {

// One per file pipeline. The demuxer is seeked earlier than asked (by
// kLookback); from the flush on, every track's data and events are held
// from the latest key frame of the video track at or before the target;
// when that track passes the target, the segments are rewritten to start
// at that key frame, earlier data of the other tracks is dropped, and the
// rest is sent on in the order it came.
class KeySnap {
 public:
  // How far before the asked time the demuxer is seeked (tsdemux itself
  // reads 2.5 s before that): the longest GOP found.
  static constexpr GstClockTime kLookback = 5 * GST_SECOND;

  // Seeking thread, before the seek: where to seek the demuxer to, or NONE
  // (no snapping: not enabled, no start, or `start` NONE to disarm).
  GstClockTime arm(GstClockTime start);
  // Streaming thread, when the demuxer is known (tsdemux, mpegpsdemux).
  void enable() {
    std::lock_guard<std::mutex> g(lock_);
    enabled_ = true;
  }
  // Link time: the track whose key frames decide (the first video track).
  void add_track(GstPad* pad, bool video);
  // Pad probe for every linked track: buffers, events and flushes.
  static GstPadProbeReturn probe(GstPad* pad, GstPadProbeInfo* info, gpointer self) noexcept;

 private:
  struct Held {
    GstPad* pad;
    GstMiniObject* item;  // owned
  };
  GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info);
  GstPadProbeReturn on_event(GstPad* pad, GstEvent* event);
  void drop_held_buffers();
  void release(std::vector<Held>& out);
  static void push(const std::vector<Held>& items, GstClockTime key);

  std::mutex lock_;  // protects everything below
  bool enabled_ = false;
  GstPad* key_pad_ = nullptr;  // borrowed: the pads live as long as the pipeline
  GstClockTime armed_ = GST_CLOCK_TIME_NONE;   // target of the coming seek
  GstClockTime target_ = GST_CLOCK_TIME_NONE;  // while holding
  GstClockTime key_ = GST_CLOCK_TIME_NONE;     // latest key frame held
  bool holding_ = false;
  guint32 seqnum_ = GST_SEQNUM_INVALID;  // of the seek being snapped
  bool releasing_ = false;  // our own pushes pass through
  std::vector<Held> held_;
};

}  // namespace gms::mounts
