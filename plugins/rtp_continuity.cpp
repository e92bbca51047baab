#include "rtp_continuity.h"

#include <algorithm>
#include <cstdlib>

namespace gms {

namespace {

// RFC 3550 A.1: a larger sequence step forward, or a step back beyond
// kMaxMisorder, means the sender restarted its numbering.
constexpr int32_t kMaxDropout = 3000;
constexpr int32_t kMaxMisorder = 100;
constexpr int64_t kSecondNs = 1000000000;
// Longer outages continue as if this long (the timestamp wraps in hours anyway).
constexpr int64_t kMaxGapNs = 86400 * kSecondNs;

int32_t seq_step(uint16_t from, uint16_t to) { return int16_t(uint16_t(to - from)); }
int64_t ts_step(uint32_t from, uint32_t to) { return int32_t(uint32_t(to - from)); }

}  // namespace

bool RtpContinuity::breaks(const Packet& in, uint32_t clock_rate, int64_t max_step_ns) const {
  if (!started_)
    return false;
  if (in.ssrc != last_in_.ssrc)
    return true;
  const int32_t dseq = seq_step(last_in_.seq, in.seq);
  if (dseq > kMaxDropout || dseq < -kMaxMisorder)
    return true;
  if (clock_rate == 0)
    return false;
  const int64_t dts = std::abs(ts_step(last_in_.ts, in.ts));
  return dts * kSecondNs / clock_rate > max_step_ns;
}

uint32_t RtpContinuity::restart_ticks(int64_t time_ns, uint32_t clock_rate) const {
  if (clock_rate > 0 && time_ns != kNoTime && newest_time_ != kNoTime && time_ns > newest_time_) {
    // Whole seconds apart from their rest: no overflow for any distance.
    const int64_t d = std::min<int64_t>(time_ns - newest_time_, kMaxGapNs);
    const int64_t ticks = d / kSecondNs * clock_rate + d % kSecondNs * clock_rate / kSecondNs;
    if (ticks > 0)
      return uint32_t(std::min<int64_t>(ticks, INT32_MAX));
  }
  if (step_ > 0)
    return step_;
  return clock_rate > 0 ? std::max<uint32_t>(1, clock_rate / 100) : 1;
}

RtpContinuity::Out RtpContinuity::map(const Packet& in, bool restart, int64_t time_ns,
                                      uint32_t clock_rate) {
  Out out;
  const bool first = !started_;
  if (first) {
    // The first packet keeps its numbers; its SSRC is ours unless set.
    started_ = true;
    if (ssrc_ == 0)
      ssrc_ = in.ssrc;
    seq_offset_ = 0;
    ts_offset_ = 0;
    restart = false;
  } else if (restart) {
    const uint32_t ticks = restart_ticks(time_ns, clock_rate);
    seq_offset_ = uint16_t(newest_seq_ + 1 - in.seq);
    ts_offset_ = newest_ts_ + ticks - in.ts;
  } else if (in.ssrc == last_in_.ssrc && ts_step(last_in_.ts, in.ts) > 0) {
    step_ = uint32_t(ts_step(last_in_.ts, in.ts));
  }
  out.packet.seq = uint16_t(in.seq + seq_offset_);
  out.packet.ts = in.ts + ts_offset_;
  out.packet.ssrc = ssrc_;
  out.restarted = restart;
  out.changed = out.packet.seq != in.seq || out.packet.ts != in.ts || out.packet.ssrc != in.ssrc;

  // A reordered packet must not pull the continuation point back.
  if (first || restart || seq_step(newest_seq_, out.packet.seq) > 0)
    newest_seq_ = out.packet.seq;
  if (first || restart || ts_step(newest_ts_, out.packet.ts) > 0) {
    newest_ts_ = out.packet.ts;
    newest_time_ = time_ns;
  }
  last_in_ = in;
  return out;
}

}  // namespace gms
