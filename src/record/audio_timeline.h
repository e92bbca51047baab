// AudioTimeline: one timeline without jitter for a recorded audio track.
//
// Relayed packets come stamped with when they were captured, which for a
// published track means when each reached the server. A sender that packs
// several frames in one RTP packet (ffmpeg's AAC: about 7) is late by the
// packing and by the network, by a different amount each packet, while the
// depayloader places a packet's further frames by adding frame durations
// to the first: the next packet, a little less late, then starts before the
// previous one ends. Time going back inside a track is taken by mp4mux as
// a negative sample duration, written as an unsigned one: the track claims
// about a day (2^32 / 48000 s) and players give up.
//
// An audio packet's RTP time is its samples' own clock, so packets are
// placed by it: at their RTP time plus an offset, first taken from the
// first packet. The capture times only steer the offset, once per second
// of audio: when even the earliest packet of that second came later than
// its place by more than kAlign (a gap in the audio, or a sender clock
// slower than ours), the offset grows by that much; when even the latest
// came earlier by more than kAlign (the first packets came late, or a
// faster sender clock), packets are dropped until the offset can shrink
// without placing a packet before the end of the last one kept. A jump of
// more than kJump is followed at once. Placed times never go back.
#pragma once

#include <gst/gst.h>

namespace gms::record {

class AudioTimeline {
 public:
  static constexpr GstClockTime kAlign = 50 * GST_MSECOND;
  static constexpr GstClockTime kWindow = GST_SECOND;
  static constexpr GstClockTime kJump = GST_SECOND;

  // Where the packet captured at `capture` whose RTP time is `media` (in
  // ns, extended: it does not wrap) goes, or GST_CLOCK_TIME_NONE to drop
  // it. A packet without a capture time keeps none.
  GstClockTime place(GstClockTime capture, GstClockTime media);
  // A new stream: the next packet starts the timeline again.
  void reset() { *this = AudioTimeline(); }

 private:
  void start_window(GstClockTime media);
  void steer();
  bool dropping(GstClockTime media);

  bool started_ = false;
  GstClockTimeDiff offset_ = 0;    // place = media + offset_
  GstClockTime last_media_ = 0;    // of the last packet placed
  GstClockTime window_start_ = 0;  // media time at which this second began
  GstClockTimeDiff earliest_ = 0;  // capture minus place, this second
  GstClockTimeDiff latest_ = 0;
  GstClockTime back_ = 0;          // how far the offset is to shrink
  bool dropping_ = false;
  GstClockTime drop_from_ = 0;     // media time of the first packet dropped
};

// Places the RTP packets that leave `pad` (an audio track's, with a
// clock-rate in its caps) on an AudioTimeline, restarted at each new stream
// or segment: their PTS and DTS become their place.
void keep_audio_in_time(GstPad* pad);

}  // namespace gms::record
