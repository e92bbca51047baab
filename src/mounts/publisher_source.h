// A UDP publisher's packets must come from the host it speaks RTSP from.
// gst-rtsp-server 1.22's udpsrc takes a datagram from any sender, so
// anyone who guesses the server port of a publisher (a small range) could
// replace or break its stream: packets with its SSRC and sequence numbers
// just ahead of its own go through the jitterbuffer to every viewer, and
// an RTCP BYE ends its source.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <cstdint>
#include <string>

namespace gms::mounts {

// Drops RTP and RTCP that the UDP sources of a publisher's `media` receive
// from any address but `publisher_ip` (its RTSP connection's peer), for
// the sources it has and those it gets later (at SETUP). Counted, and
// logged at most every 10 s per media.
void accept_udp_only_from(GstRTSPMedia* media, const std::string& path,
                          const std::string& publisher_ip);

// Datagrams dropped so far (all publishers together).
uint64_t foreign_publisher_packets();

}  // namespace gms::mounts
