#include "stream_stats.h"

#include <algorithm>
#include <utility>

namespace gms {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
// A sequence number further back than kMaxMisorder, or further ahead than
// kMaxDropout, is a sender that started over (a new publisher, a back end
// that came back), not a late packet or a loss (the bounds RTP receivers use).
constexpr int kMaxMisorder = 100;
constexpr int kMaxDropout = 3000;

double per_second(guint64 amount, GstClockTime span) {
  return span > 0 ? double(amount) * double(GST_SECOND) / double(span) : 0.0;
}
}  // namespace

guint64 StreamStats::missing_before(int seq) noexcept {
  const int last = std::exchange(last_seq_, seq);
  if (last < 0)
    return 0;
  const int ahead = (seq - last) & 0xffff;  // modulo 2^16: wraps count forward
  if (ahead == 0)
    return 0;  // a duplicate
  if (ahead <= kMaxDropout)
    return guint64(ahead - 1);
  if (0x10000 - ahead <= kMaxMisorder)
    last_seq_ = last;  // late: the hole it fills was counted already
  // else the sender started over: counting resumes from this packet
  return 0;
}

bool StreamStats::add(const BufferFacts& b, const StatsSettings& s) noexcept {
  buffers_.fetch_add(1, kRelaxed);
  bytes_.fetch_add(b.size, kRelaxed);
  if (b.frame_end)
    frames_.fetch_add(1, kRelaxed);
  if (!b.delta_unit)
    key_frames_.fetch_add(1, kRelaxed);
  last_activity_us_.store(b.now_us, kRelaxed);

  // The first buffer of a stream is normally DISCONT; that is no gap.
  bool gap = seen_buffer_ && b.discont;
  seen_buffer_ = true;
  if (b.rtp_seq >= 0) {
    if (guint64 missing = missing_before(b.rtp_seq)) {
      lost_.fetch_add(missing, kRelaxed);
      gap = true;
    }
  }
  bool report = false;

  const GstClockTime rt = b.running_time;
  if (GST_CLOCK_TIME_IS_VALID(rt)) {
    if (GST_CLOCK_TIME_IS_VALID(last_end_) && s.gap_threshold > 0 && rt > last_end_ + s.gap_threshold)
      gap = true;

    if (!GST_CLOCK_TIME_IS_VALID(first_time_)) {
      first_time_ = rt;
      window_start_ = rt;
    }
    if (s.interval == 0) {
      next_report_ = GST_CLOCK_TIME_NONE;
      have_window_.store(false, kRelaxed);
    } else if (!GST_CLOCK_TIME_IS_VALID(next_report_)) {
      // First buffer, or the interval was just switched on: a full window first.
      window_start_ = rt;
      window_bytes_ = window_frames_ = 0;
      next_report_ = rt + s.interval;
    } else if (rt >= next_report_) {
      // The window [window_start_, rt) is complete; this buffer opens the next one.
      const GstClockTime span = rt - window_start_;
      bitrate_.store(per_second(window_bytes_ * 8, span), kRelaxed);
      framerate_.store(per_second(window_frames_, span), kRelaxed);
      have_window_.store(true, kRelaxed);
      window_start_ = rt;
      window_bytes_ = window_frames_ = 0;
      next_report_ += s.interval;
      if (next_report_ <= rt)  // a long hole: do not fire once per missed interval
        next_report_ = rt + s.interval;
      report = true;
    }
    window_bytes_ += b.size;
    window_frames_ += b.frame_end ? 1 : 0;
    timed_bytes_ += b.size;
    timed_frames_ += b.frame_end ? 1 : 0;

    const GstClockTime end = rt + (GST_CLOCK_TIME_IS_VALID(b.duration) ? b.duration : 0);
    last_end_ = GST_CLOCK_TIME_IS_VALID(last_end_) ? std::max(last_end_, end) : end;
    const GstClockTime span = last_end_ - first_time_;
    avg_bitrate_.store(per_second(timed_bytes_ * 8, span), kRelaxed);
    avg_framerate_.store(per_second(timed_frames_, span), kRelaxed);
    running_time_.store(rt, kRelaxed);
  }
  if (gap)
    gaps_.fetch_add(1, kRelaxed);
  return report;
}

StatsSnapshot StreamStats::snapshot() const noexcept {
  StatsSnapshot r;
  r.buffers = buffers_.load(kRelaxed);
  r.bytes = bytes_.load(kRelaxed);
  r.frames = frames_.load(kRelaxed);
  r.key_frames = key_frames_.load(kRelaxed);
  r.gaps = gaps_.load(kRelaxed);
  r.lost = lost_.load(kRelaxed);
  r.avg_bitrate = avg_bitrate_.load(kRelaxed);
  r.avg_framerate = avg_framerate_.load(kRelaxed);
  const bool window = have_window_.load(kRelaxed);
  r.bitrate = window ? bitrate_.load(kRelaxed) : r.avg_bitrate;
  r.framerate = window ? framerate_.load(kRelaxed) : r.avg_framerate;
  r.running_time = running_time_.load(kRelaxed);
  r.last_activity_us = last_activity_us_.load(kRelaxed);
  return r;
}

void StreamStats::forget_timeline() noexcept {
  first_time_ = last_end_ = window_start_ = next_report_ = GST_CLOCK_TIME_NONE;
  timed_bytes_ = timed_frames_ = window_bytes_ = window_frames_ = 0;
  last_seq_ = -1;
}

void StreamStats::reset() noexcept {
  forget_timeline();
  seen_buffer_ = false;
  for (auto* c : {&buffers_, &bytes_, &frames_, &key_frames_, &gaps_, &lost_})
    c->store(0, kRelaxed);
  for (auto* r : {&bitrate_, &framerate_, &avg_bitrate_, &avg_framerate_})
    r->store(0, kRelaxed);
  running_time_.store(GST_CLOCK_TIME_NONE, kRelaxed);
  last_activity_us_.store(0, kRelaxed);
  have_window_.store(false, kRelaxed);
}

}  // namespace gms
