#include "relay/rtp_rewriter.h"

namespace gms::relay {

RtpRewriter::Out RtpRewriter::map(uint64_t generation, uint16_t seq, uint32_t ts, uint32_t ssrc,
                                  int64_t now_us) {
  const bool restart = core_.started() && generation != generation_;
  generation_ = generation;
  auto o = core_.map({seq, ts, ssrc}, restart, now_us * 1000, clock_rate_);
  return Out{o.packet.seq, o.packet.ts, o.packet.ssrc, o.changed};
}

}  // namespace gms::relay
