#include "normalizer.h"

#include <algorithm>

namespace gms {

namespace {

// Frame estimate used before a track has shown its spacing.
constexpr GstClockTime kUnknownFrame = GST_MSECOND;

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
  const RtpContinuity::Packet p{in.seq, in.ts, in.ssrc};
  const bool restart = r.core.started() &&
                       (r.restart_pending || d.discont ||
                        r.core.breaks(p, in.clock_rate, gint64(s.max_jump)));
  r.restart_pending = false;
  // The output PTS is the packet's time: a restart continues the RTP time as
  // far as the output timeline moved, so RTP time and PTS stay in step.
  const gint64 time = valid(d.pts) ? gint64(d.pts) : RtpContinuity::kNoTime;
  const auto o = r.core.map(p, restart, time, in.clock_rate);
  if (o.restarted) {
    d.discont = true;
    rtp_restarts_++;
  }
  return RtpOut{o.packet.seq, o.packet.ts, o.packet.ssrc};
}

void Normalizer::flush(TrackId id, bool reset_time) {
  auto it = tracks_.find(id);
  if (it == tracks_.end())
    return;
  Track& t = it->second;
  t.active = false;
  t.last_out_dts = GST_CLOCK_TIME_NONE;  // downstream was flushed too
  t.rtp.restart_pending = t.rtp.core.started();
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
