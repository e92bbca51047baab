#include "normalizer.h"

#include <algorithm>
#include <cstdlib>

namespace gms {

namespace {

// Frame estimate used before a track has shown its spacing.
constexpr GstClockTime kUnknownFrame = GST_MSECOND;
// RFC 3550 A.1: a larger sequence step forward, or a step back beyond
// kMaxMisorder, means the sender restarted its numbering.
constexpr gint32 kMaxDropout = 3000;
constexpr gint32 kMaxMisorder = 100;

bool valid(GstClockTime t) { return GST_CLOCK_TIME_IS_VALID(t); }

// Is `candidate` (an output time) within [lo, hi]?
bool within(gint64 candidate, GstClockTime lo, GstClockTime hi) {
  return candidate >= 0 && GstClockTime(candidate) >= lo && GstClockTime(candidate) <= hi;
}

GstClockTime sub_or_zero(GstClockTime a, GstClockTime b) { return a > b ? a - b : 0; }

GstClockTime shifted(GstClockTime t, gint64 offset) {
  if (!valid(t))
    return GST_CLOCK_TIME_NONE;
  const gint64 r = gint64(t) + offset;
  return r < 0 ? 0 : GstClockTime(r);
}

}  // namespace

Normalizer::TrackId Normalizer::add_track() {
  const TrackId id = next_id_++;
  tracks_.emplace(id, Track{});
  return id;
}

void Normalizer::remove_track(TrackId id) { tracks_.erase(id); }

void Normalizer::reanchor(Track& t, GstClockTime ref, const TimestampIn& in, const NormalizerSettings& s) {
  GstClockTime base = end_;
  if (s.wallclock && valid(wall0_) && valid(in.now) && in.now > wall0_)
    base = std::max(base, out0_ + (in.now - wall0_));
  offset_ = gint64(base) - gint64(ref);
  epoch_++;
  reanchors_++;
  t.offset = offset_;
  t.epoch = epoch_;
}

Decision Normalizer::push(TrackId id, const TimestampIn& in, const NormalizerSettings& s, const RtpIn* rtp) {
  if (s.monotonic_pts && !valid(in.dts) && valid(in.pts)) {
    // The PTS obeys the DTS rules: map it as a DTS, hand it back as the PTS.
    TimestampIn as_dts = in;
    as_dts.dts = in.pts;
    Decision d = push_mapped(id, as_dts, s, rtp);
    d.pts = d.dts;
    d.dts = GST_CLOCK_TIME_NONE;
    return d;
  }
  return push_mapped(id, in, s, rtp);
}

Decision Normalizer::push_mapped(TrackId id, const TimestampIn& in, const NormalizerSettings& s,
                                 const RtpIn* rtp) {
  Decision d;
  d.pts = in.pts;
  d.dts = in.dts;
  auto it = tracks_.find(id);
  if (it == tracks_.end())
    return d;
  Track& t = it->second;

  const bool has_dts = valid(in.dts);
  const GstClockTime ref = has_dts ? in.dts : in.pts;
  if (!valid(ref)) {
    if (rtp)
      d.rtp = map_rtp(t, *rtp, d, s);
    return d;
  }

  bool continuous = false;
  gint64 delta = 0;
  if (!anchored_) {
    // The first buffer of the timeline keeps its time.
    anchored_ = true;
    offset_ = 0;
    epoch_++;
    end_ = 0;
    wall0_ = in.now;
    out0_ = ref;
    t.offset = offset_;
    t.epoch = epoch_;
  } else if (!t.active) {
    // A new or flushed track joins the group's current mapping if it fits:
    // near the other tracks' output when some are playing, otherwise only
    // after everything output so far (a rebuilt source must not go back).
    const bool others = std::any_of(tracks_.begin(), tracks_.end(),
                                    [&](const auto& e) { return &e.second != &t && e.second.active; });
    const GstClockTime lo = others ? sub_or_zero(end_, s.max_jump) : end_;
    if (within(gint64(ref) + offset_, lo, end_ + s.max_jump)) {
      t.offset = offset_;
      t.epoch = epoch_;
    } else {
      reanchor(t, ref, in, s);
      d.discont = true;
    }
  } else {
    delta = gint64(ref) - gint64(t.last_in);
    // DTS must not go back: beyond half a frame of jitter a backward DTS is a
    // restart. PTS alone may go back up to max_jump (frame reordering).
    const GstClockTime frame = valid(t.dur_est) ? t.dur_est : kUnknownFrame;
    const gint64 max_back = has_dts && t.last_was_dts ? gint64(frame / 2) : gint64(s.max_jump);
    if (delta <= gint64(s.max_jump) && -delta <= max_back) {
      continuous = true;
    } else {
      // Restart, leap or step back. If another track already re-anchored the
      // group for this restart and our new times fit it, follow it so the
      // tracks keep their relative timing; otherwise anchor anew.
      d.discont = true;
      const gint64 candidate = gint64(ref) + offset_;
      if (t.epoch != epoch_ && within(candidate, sub_or_zero(end_, s.max_jump), end_ + s.max_jump) &&
          GstClockTime(candidate) >= t.last_out) {
        t.offset = offset_;
        t.epoch = epoch_;
      } else {
        reanchor(t, ref, in, s);
      }
    }
  }

  d.dts = shifted(in.dts, t.offset);
  if (has_dts && valid(t.last_out_dts) && d.dts < t.last_out_dts)
    d.dts = t.last_out_dts;  // DTS must not go back; a small step back is clamped
  d.pts = shifted(in.pts, t.offset);
  if (valid(d.pts) && has_dts && d.pts < d.dts)
    d.pts = d.dts;

  if (valid(in.duration))
    t.dur_est = in.duration;
  else if (continuous && delta > 0)
    t.dur_est = GstClockTime(delta);
  const GstClockTime frame = valid(in.duration) ? in.duration : valid(t.dur_est) ? t.dur_est : kUnknownFrame;
  const GstClockTime latest = std::max(valid(d.pts) ? d.pts : 0, valid(d.dts) ? d.dts : 0);
  end_ = std::max(end_, latest + frame);

  t.active = true;
  t.last_in = ref;
  t.last_was_dts = has_dts;
  t.last_out = shifted(ref, t.offset);
  if (has_dts)
    t.last_out_dts = d.dts;
  if (rtp)
    d.rtp = map_rtp(t, *rtp, d, s);
  return d;
}

RtpOut Normalizer::map_rtp(Track& t, const RtpIn& in, Decision& d, const NormalizerSettings& s) {
  RtpTrack& r = t.rtp;
  bool restart = false;
  const bool first = !r.started;
  if (first) {
    // The first packet keeps its numbers; its SSRC becomes ours for good.
    r.started = true;
    r.out_ssrc = in.ssrc;
    r.seq_offset = 0;
    r.ts_offset = 0;
  } else {
    restart = r.restart_pending || d.discont || in.ssrc != r.last_in_ssrc;
    const gint32 dseq = gint16(guint16(in.seq - r.last_in_seq));
    const gint32 dts = gint32(guint32(in.ts - r.last_in_ts));
    if (dseq > kMaxDropout || dseq < -kMaxMisorder)
      restart = true;
    if (in.clock_rate > 0 &&
        gst_util_uint64_scale(guint64(std::abs(gint64(dts))), GST_SECOND, in.clock_rate) > s.max_jump)
      restart = true;
    if (restart) {
      // Continue one step after the newest packet sent, the step taken from
      // the output timeline when we know it, so RTP time and PTS stay in step.
      guint32 ticks = 0;
      if (in.clock_rate > 0 && valid(d.pts) && valid(r.last_out_pts) && d.pts > r.last_out_pts)
        ticks = guint32(gst_util_uint64_scale(d.pts - r.last_out_pts, in.clock_rate, GST_SECOND));
      if (ticks == 0)
        ticks = r.ts_step;
      if (ticks == 0)
        ticks = in.clock_rate > 0 ? std::max<guint32>(1, in.clock_rate / 100) : 1;
      r.seq_offset = guint16(r.last_out_seq + 1 - in.seq);
      r.ts_offset = guint32(r.last_out_ts + ticks - in.ts);
      d.discont = true;
      rtp_restarts_++;
    } else if (dts > 0) {
      r.ts_step = guint32(dts);
    }
  }
  r.restart_pending = false;

  RtpOut out;
  out.seq = guint16(in.seq + r.seq_offset);
  out.ts = guint32(in.ts + r.ts_offset);
  out.ssrc = r.out_ssrc;

  // Reordered packets must not pull the continuation point back.
  if (restart || first || gint16(guint16(out.seq - r.last_out_seq)) > 0)
    r.last_out_seq = out.seq;
  if (restart || first || gint32(guint32(out.ts - r.last_out_ts)) > 0) {
    r.last_out_ts = out.ts;
    r.last_out_pts = d.pts;
  }
  r.last_in_seq = in.seq;
  r.last_in_ts = in.ts;
  r.last_in_ssrc = in.ssrc;
  return out;
}

void Normalizer::flush(TrackId id, bool reset_time) {
  auto it = tracks_.find(id);
  if (it == tracks_.end())
    return;
  Track& t = it->second;
  t.active = false;
  t.last_out_dts = GST_CLOCK_TIME_NONE;  // downstream was flushed too
  t.rtp.restart_pending = t.rtp.started;
  if (reset_time && std::none_of(tracks_.begin(), tracks_.end(), [](const auto& e) { return e.second.active; }))
    anchored_ = false;  // the running time restarts for everyone: start afresh
}

GstClockTime Normalizer::peek(TrackId id, GstClockTime in) const {
  auto it = tracks_.find(id);
  if (it == tracks_.end() || !it->second.active || !valid(in))
    return GST_CLOCK_TIME_NONE;
  return shifted(in, it->second.offset);
}

GstClockTime Normalizer::to_input(TrackId id, GstClockTime out) const {
  auto it = tracks_.find(id);
  if (it == tracks_.end() || !it->second.active || !valid(out))
    return GST_CLOCK_TIME_NONE;
  return shifted(out, -it->second.offset);
}

}  // namespace gms
