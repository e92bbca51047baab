// Keeps one RTP output stream continuous while its input changes producer:
// a producer change (a new generation) is a restart of the shared
// RtpContinuity core, which continues sequence numbers and timestamps (by
// the wall time elapsed) from the last packet sent under the same SSRC, so
// viewers see one stream across a publisher restart or override. While the
// first producer lasts it changes nothing, and packets pass through without
// a copy. Plain C++, no locks, no clock: "now" is an argument.
#pragma once

#include <cstdint>

#include "rtp_continuity.h"

namespace gms::relay {

class RtpRewriter {
 public:
  struct Out {
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    bool changed;  // differs from the input: the packet must be rewritten
  };

  // `clock_rate` in Hz (0: unknown; then timestamps continue without the
  // wall-clock gap).
  void set_clock_rate(uint32_t clock_rate) { clock_rate_ = clock_rate; }
  // `ssrc` for every output packet; 0: keep the first input's.
  void set_ssrc(uint32_t ssrc) { core_.set_ssrc(ssrc); }
  uint32_t ssrc() const { return core_.ssrc(); }

  Out map(uint64_t generation, uint16_t seq, uint32_t ts, uint32_t ssrc, int64_t now_us);

 private:
  RtpContinuity core_;
  uint64_t generation_ = 0;
  uint32_t clock_rate_ = 0;
};

}  // namespace gms::relay
