// RTCP for the fault cases, well formed and not: what a hostile viewer or
// publisher sends to the server's RTCP channel or port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gms::test {

// A packet header: version 2, `count` (or FMT), `type`, and a length field
// of `words` (the packet's 32-bit words minus one), followed by `words`
// words of zeros.
std::string rtcp_packet(uint8_t count, uint8_t type, size_t words);
// A receiver report claiming `count` report blocks in `words` words.
std::string rtcp_rr(uint8_t count, size_t words);
// A sound compound: a receiver report of `ssrc` (no blocks) and its SDES
// CNAME.
std::string rtcp_rr_sdes(uint32_t ssrc, const std::string& cname = "fault@127.0.0.1");
// An SDES chunk whose CNAME item claims 255 bytes in a 12-byte packet.
std::string rtcp_sdes_overrun();

struct HostileRtcp {
  const char* name;
  std::string bytes;
  bool sound = false;  // well formed, only large: a parser must take it
};
// Each malformed shape a parser must refuse without reading past the
// packet: SDES items and PRIV prefixes longer than their packet, a
// receiver report of 31 blocks in 8 bytes, a sender report cut after its
// SSRC, BYEs with a 255-byte reason (whole, and cut) or a length past the
// datagram, 2000-byte compounds (sound, and with a last packet that runs
// past the end), feedback without its SSRCs, and datagrams of 1 and 3
// bytes. With `big`, a 60 004-byte BYE too (UDP and interleaved frames
// carry it; an RTP/RTCP-over-UDP peer on the open internet would not).
std::vector<HostileRtcp> hostile_rtcp(bool big = true);

}  // namespace gms::test
