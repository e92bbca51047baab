// Measures how long a new viewer waits for its first H.264 key frame:
// DESCRIBE, SETUP (TCP interleaved or UDP), PLAY, then the time from sending
// PLAY to the first packet that starts an IDR picture (with SPS, or the IDR
// slice) and that a GStreamer receiver would keep (seq ≥ RTP-Info seq).
#pragma once

#include <cstdint>
#include <string>

namespace gms::test {

struct FirstKey {
  bool ok = false;
  double ms = 0;          // PLAY sent → first key packet
  std::string error;
};

FirstKey measure_first_key(uint16_t port, const std::string& url, bool tcp, unsigned timeout_ms);

}  // namespace gms::test
