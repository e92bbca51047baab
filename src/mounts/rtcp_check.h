// What the server's RTP sessions may be given as RTCP. GStreamer 1.22's
// parser (gstrtcpbuffer.c, used by rtpsession.c) checks that the packets
// of a compound fit the datagram and then trusts the counts and lengths
// inside each packet:
// - an SDES item's data is copied by the length the item claims (up to 255
//   bytes past the packet), and a PRIV item's prefix length moves the start
//   of that copy past the end of the buffer (the upstream fix is in 1.26);
// - receiver and sender reports are read by their count and place, a
//   report without its SSRC from the next packet or past the buffer;
// - a transport-wide congestion control report (RTPFB 15) is parsed with
//   four times the length of its feedback, so past the packet; no RTSP
//   client is offered that feedback here, so none is taken.
// The check below is stricter: every count and length inside a packet
// stays inside it, or the whole compound is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gms::mounts {

// True when `data` is an RTCP compound of version-2 packets that fit the
// datagram, whose reports, SDES chunks and items, BYE reasons, APP and
// feedback packets keep within their own length, and which holds no
// transport-wide congestion control feedback.
bool rtcp_is_sound(const uint8_t* data, size_t size);

// The SSRCs a sound compound makes a session know: the senders of its
// reports and the chunks of its SDES packets (appended to `out`).
void rtcp_sources(const uint8_t* data, size_t size, std::vector<uint32_t>& out);

}  // namespace gms::mounts
