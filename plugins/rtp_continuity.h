// RtpContinuity: keeps one RTP output stream's numbering continuous while
// its input restarts (a new producer, a source that came back, a timeline
// re-anchor). The one place both the relay reader (msrelaysrc) and the
// timestamp normalizer (msnormalize) rewrite sequence numbers, timestamps
// and the SSRC.
//
// The caller decides what a restart is (a producer change, a discontinuity
// of its own timeline) and may ask breaks() whether the packet alone looks
// like one. On a restart the output continues one packet after the newest
// packet sent and as many clock ticks after its timestamp as the caller's
// time advanced since then; until the first restart packets keep their
// numbers, and the SSRC stays the first one for good. Wrap-around of the
// 16-bit sequence and 32-bit timestamp is modular: normal packets keep their
// spacing exactly, and a reordered packet never pulls the continuation
// point back.
//
// Plain C++: no locks, no clock reads; time is an argument.
#pragma once

#include <cstdint>

namespace gms {

class RtpContinuity {
 public:
  struct Packet {
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint32_t ssrc = 0;
  };
  struct Out {
    Packet packet;
    bool restarted = false;  // this packet starts a new continuation
    bool changed = false;    // differs from the input: it must be rewritten
  };
  // No time: the caller does not know when the packet is due.
  static constexpr int64_t kNoTime = -1;

  // The SSRC of every output packet; 0: keep the first input's.
  void set_ssrc(uint32_t ssrc) { ssrc_ = ssrc; }
  uint32_t ssrc() const { return ssrc_; }
  bool started() const { return started_; }

  // Whether `in` departs from the previous input packet on its own: another
  // SSRC, a sequence jump beyond RFC 3550's limits (A.1), or, with a known
  // clock rate, a timestamp step larger than `max_step_ns` either way.
  bool breaks(const Packet& in, uint32_t clock_rate, int64_t max_step_ns) const;

  // Maps one packet. `time_ns` is when the packet's media is due on the
  // caller's timeline (kNoTime: unknown); on a restart the timestamp
  // advances by that time's distance from the newest packet sent, else by
  // the last step seen, else by 10 ms (clock rate known) or one tick.
  Out map(const Packet& in, bool restart, int64_t time_ns, uint32_t clock_rate);

 private:
  uint32_t restart_ticks(int64_t time_ns, uint32_t clock_rate) const;

  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  Packet last_in_;
  uint16_t newest_seq_ = 0;  // output: the newest sequence number sent
  uint32_t newest_ts_ = 0;   // output: the newest timestamp sent
  int64_t newest_time_ = kNoTime;  // the caller's time of newest_ts_
  uint32_t step_ = 0;        // last positive timestamp step: about one frame
};

}  // namespace gms
