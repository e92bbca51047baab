// StreamStats: the counting core of msstats.
//
// Plain C++: no pads, no locks, no clock reads. The element feeds one
// BufferFacts per buffer from its streaming thread (add() is single-writer);
// snapshot() may be called from any thread at the same time, because every
// value it reads is an atomic. Rates come from buffer running times, not from
// the clock, so they are exact and reproducible for a known stream.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>

namespace gms {

// What msstats knows about one buffer. Times are nanoseconds;
// GST_CLOCK_TIME_NONE means unknown.
struct BufferFacts {
  guint64 size = 0;
  // Running time of the buffer (DTS, else PTS); NONE when it has none.
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  bool delta_unit = false;  // GST_BUFFER_FLAG_DELTA_UNIT: not a key frame
  bool discont = false;     // GST_BUFFER_FLAG_DISCONT
  bool frame_end = true;    // RTP: marker bit; other streams: every buffer is a frame
  gint64 now_us = 0;        // wall clock (g_get_real_time()), for last-activity
  int rtp_seq = -1;         // RTP sequence number; -1: not RTP
};

struct StatsSettings {
  // Report period in running time; 0 = no periodic report (rates are then
  // averages since the first buffer).
  GstClockTime interval = GST_SECOND;
  // A timestamp hole larger than this counts as a gap; 0 = only DISCONT counts.
  GstClockTime gap_threshold = GST_SECOND;
};

// A consistent-enough copy of the counters (each field is read atomically).
struct StatsSnapshot {
  guint64 buffers = 0;
  guint64 bytes = 0;
  guint64 frames = 0;
  guint64 key_frames = 0;   // buffers without DELTA_UNIT
  guint64 gaps = 0;         // DISCONT buffers (not the first), timestamp holes, sequence holes
  guint64 lost = 0;         // RTP packets missing by sequence number
  double bitrate = 0;       // bit/s over the last completed interval, else the average
  double framerate = 0;     // frames/s, same window as bitrate
  double avg_bitrate = 0;   // bit/s since the first timestamped buffer
  double avg_framerate = 0;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;  // of the last timestamped buffer
  gint64 last_activity_us = 0;                      // wall clock of the last buffer; 0 = never
};

class StreamStats {
 public:
  // Counts one buffer (streaming thread only). Returns true when the running
  // time crossed the next report point: the caller should post a report now.
  bool add(const BufferFacts& b, const StatsSettings& s) noexcept;

  // Any thread.
  StatsSnapshot snapshot() const noexcept;

  // The next buffer's timestamp is not compared with the previous one (after a
  // flush the timeline restarts; that is not a gap). Streaming thread only.
  void forget_timeline() noexcept;

  // Back to zero; call only while no buffer flows (element start()).
  void reset() noexcept;

 private:
  // Counters: written by add(), read by snapshot().
  std::atomic<guint64> buffers_{0}, bytes_{0}, frames_{0}, key_frames_{0}, gaps_{0}, lost_{0};
  std::atomic<double> bitrate_{0}, framerate_{0}, avg_bitrate_{0}, avg_framerate_{0};
  std::atomic<GstClockTime> running_time_{GST_CLOCK_TIME_NONE};
  std::atomic<gint64> last_activity_us_{0};
  std::atomic<bool> have_window_{false};

  // Streaming-thread state.
  GstClockTime first_time_ = GST_CLOCK_TIME_NONE;  // running time of the first timestamped buffer
  guint64 timed_bytes_ = 0, timed_frames_ = 0;     // since first_time_
  GstClockTime last_end_ = GST_CLOCK_TIME_NONE;    // running time where the last buffer ended
  GstClockTime window_start_ = GST_CLOCK_TIME_NONE;
  GstClockTime next_report_ = GST_CLOCK_TIME_NONE;
  guint64 window_bytes_ = 0, window_frames_ = 0;
  bool seen_buffer_ = false;
  int last_seq_ = -1;  // highest RTP sequence number seen; -1: none since the timeline began

  // Packets missing before `seq` (0 when in order, late or a restart).
  guint64 missing_before(int seq) noexcept;
};

}  // namespace gms
