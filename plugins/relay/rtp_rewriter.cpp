#include "relay/rtp_rewriter.h"

namespace gms::relay {

RtpRewriter::Out RtpRewriter::map(uint64_t generation, uint16_t seq, uint32_t ts, uint32_t ssrc,
                                  int64_t now_us) {
  if (ssrc_ == 0)
    ssrc_ = ssrc;
  if (!have_out_) {
    generation_ = generation;
    seq_offset_ = 0;
    ts_offset_ = 0;
  } else if (generation != generation_) {
    // A new producer: continue one packet and the elapsed wall time after
    // the last packet sent.
    generation_ = generation;
    uint32_t gap = 0;
    if (clock_rate_ > 0 && now_us > last_us_)
      gap = static_cast<uint32_t>((now_us - last_us_) * int64_t(clock_rate_) / 1000000);
    seq_offset_ = static_cast<uint16_t>(last_seq_ + 1 - seq);
    ts_offset_ = last_ts_ + (gap > 0 ? gap : 1) - ts;
  }
  Out o;
  o.seq = static_cast<uint16_t>(seq + seq_offset_);
  o.ts = ts + ts_offset_;
  o.ssrc = ssrc_;
  o.changed = o.seq != seq || o.ts != ts || o.ssrc != ssrc;
  have_out_ = true;
  last_seq_ = o.seq;
  last_ts_ = o.ts;
  last_us_ = now_us;
  return o;
}

}  // namespace gms::relay
