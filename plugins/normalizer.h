// Normalizer: maps the timestamps of one source's tracks onto one monotonic
// output timeline (the idea of live555's PresentationTimeSessionNormalizer,
// extended to survive source restarts). The core of msnormalize.
//
// Plain C++: no pads, no locks, no clock reads; not thread-safe. Tracks that
// share a timeline (audio and video of one camera) live in ONE Normalizer;
// NormalizerGroup (normalizer_group.h) wraps it with a mutex and a process-wide
// registry so elements on different streaming threads can share it.
//
// Model. Every track maps input to output with an offset: out = in + offset.
// The first buffer of the timeline keeps its time (offset 0), so a live
// source's running time stays in step with the pipeline clock. An input jump
// of more than `max_jump` between two buffers of a track (a source restart
// with new timestamps, a leap forward, a step back) is a discontinuity: the
// track adopts the offset another track of the group already chose for the
// same restart if that fits, otherwise it re-anchors the group so that its
// output continues just after everything the group has output so far (the
// latest end time over all tracks, i.e. last output + one frame duration
// estimate). Output therefore never goes back and never leaps across a
// restart, and tracks that restart together keep their relative timing.
//
// Guarantees per track, while no flush intervenes:
//  - output DTS never decreases: a DTS step back of up to half a frame is
//    clamped, a larger one is a discontinuity like a jump; and a
//    discontinuity never takes a track's output back;
//  - the track that re-anchors continues after everything the group has
//    output so far; tracks that follow it keep their offset to it;
//  - a track joining a group where no other track plays (a rebuilt source in
//    a group kept alive) starts after everything output so far;
//  - PTS - DTS of a buffer is preserved (unless the DTS had to be clamped).
// Within max_jump, PTS-only tracks may step back (frame reordering), unless
// monotonic_pts is set.
//
// RTP (optional per buffer): sequence numbers and RTP timestamps are rewritten
// so they continue across a restart (new SSRC, seq or ts jump, or a timeline
// re-anchor) instead of going back, and the SSRC stays the first one seen
// (the RtpContinuity core, shared with the relay reader).
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <optional>

#include "rtp_continuity.h"

namespace gms {

struct NormalizerSettings {
  // Largest input step (either direction, ns) taken as continuous.
  GstClockTime max_jump = GST_SECOND;
  // Re-anchors keep the output in step with the wall clock since the first
  // buffer (an outage of 10 s leaves a 10 s hole, as a recording should, and
  // a live pipeline stays in step with its clock), instead of continuing
  // right after the last buffer.
  bool wallclock = false;
  // A PTS without DTS must not go back either (RTP packets: their PTS is an
  // arrival time, never reordered): it follows the DTS rules below.
  bool monotonic_pts = false;
};

// One buffer's times, on the input running-time timeline (ns; NONE = unset).
struct TimestampIn {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime dts = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  // Elapsed-time clock in ns, read only in wallclock mode. Any clock that
  // advances like the wall clock works; msnormalize uses the monotonic clock
  // (g_get_monotonic_time() * 1000) so setting the system time moves nothing.
  GstClockTime now = GST_CLOCK_TIME_NONE;
};

// RTP header fields of one packet; clock_rate 0 = unknown (then only SSRC and
// sequence jumps are detected, and a restart advances the ts by the last step).
struct RtpIn {
  guint16 seq = 0;
  guint32 ts = 0;
  guint32 ssrc = 0;
  guint32 clock_rate = 0;
};

struct RtpOut {
  guint16 seq = 0;
  guint32 ts = 0;
  guint32 ssrc = 0;
};

struct Decision {
  GstClockTime pts = GST_CLOCK_TIME_NONE;  // NONE stays NONE
  GstClockTime dts = GST_CLOCK_TIME_NONE;
  bool discont = false;  // the output re-anchored here: mark the buffer DISCONT
  std::optional<RtpOut> rtp;  // set when an RtpIn was given
};

class Normalizer {
 public:
  using TrackId = unsigned;

  TrackId add_track();
  // Its output still counts for the group's "latest end" (later tracks never
  // go behind it).
  void remove_track(TrackId id);
  size_t track_count() const { return tracks_.size(); }

  // Maps one buffer of `track`. Buffers without PTS and DTS pass unchanged and
  // change nothing (RTP fields are still mapped).
  Decision push(TrackId track, const TimestampIn& in, const NormalizerSettings& settings,
                const RtpIn* rtp = nullptr);

  // The track was flushed: its next buffer is not compared with the previous
  // one but joins the group timeline like a new track. With reset_time (the
  // pipeline's running time restarts), once every track of the group has been
  // flushed the whole timeline starts afresh (next buffer keeps its time). RTP
  // numbering always continues.
  void flush(TrackId track, bool reset_time);

  // Output time for `in` on `track`'s current mapping without changing any
  // state (for GAP events); NONE when the track has no mapping yet.
  GstClockTime peek(TrackId track, GstClockTime in) const;
  // The reverse: the input time that maps to output `out` on `track` (for
  // upstream events such as QoS and force-key-unit); NONE without a mapping.
  GstClockTime to_input(TrackId track, GstClockTime out) const;

  // Timeline re-anchors so far, and RTP numbering restarts.
  guint64 reanchors() const { return reanchors_; }
  guint64 rtp_restarts() const { return rtp_restarts_; }

 private:
  struct RtpTrack {
    RtpContinuity core;
    bool restart_pending = false;  // flushed: the next packet restarts
  };
  struct Track {
    bool active = false;  // has a previous buffer to compare with
    guint64 epoch = 0;    // the group anchor this track's offset came from
    gint64 offset = 0;
    GstClockTime last_in = GST_CLOCK_TIME_NONE;        // input reference (DTS, else PTS)
    bool last_was_dts = false;                          // last_in was a DTS
    GstClockTime last_out = GST_CLOCK_TIME_NONE;       // output of last_in
    GstClockTime last_out_dts = GST_CLOCK_TIME_NONE;   // for the non-decreasing DTS rule
    GstClockTime dur_est = GST_CLOCK_TIME_NONE;        // one-frame estimate
    RtpTrack rtp;
  };

  Decision push_mapped(TrackId id, const TimestampIn& in, const NormalizerSettings& s, const RtpIn* rtp);
  void reanchor(Track& t, GstClockTime ref, const TimestampIn& in, const NormalizerSettings& s);
  RtpOut map_rtp(Track& t, const RtpIn& in, Decision& d, const NormalizerSettings& s);

  std::map<TrackId, Track> tracks_;
  TrackId next_id_ = 1;

  // Group timeline.
  bool anchored_ = false;
  gint64 offset_ = 0;    // the offset chosen by the latest anchor
  guint64 epoch_ = 0;    // bumped by every anchor
  GstClockTime end_ = 0;  // latest output end over all tracks (out + duration)
  GstClockTime wall0_ = GST_CLOCK_TIME_NONE;  // wall clock at the first buffer
  GstClockTime out0_ = 0;                     // output time of the first buffer
  guint64 reanchors_ = 0;
  guint64 rtp_restarts_ = 0;
};

}  // namespace gms
