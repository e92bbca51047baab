// The guards a publisher's RECORD media gets between its sources (appsrc
// for RTP over TCP, udpsrc for UDP) and the library's rtpbin, each for a
// way in which gst-rtsp-server 1.22 lets a publisher's packets, or a third
// party's, break the path or the process:
// - UDP datagrams from another host than the publisher's are dropped
//   (source_address_filter.h);
// - a track's RTP keeps the first SSRC it had (ssrc_unifier.h);
// - packet-loss events never reach the FEC decoder (fec_lost_guard.h).
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <string>

namespace gms::mounts {

// For the elements `media`'s pipeline has and those it gets later (the
// library makes the UDP sources at SETUP and the decoder at the first
// packet). `publisher_ip`: the peer of the publisher's RTSP connection.
void guard_publisher_input(GstRTSPMedia* media, const std::string& path,
                           const std::string& publisher_ip);

}  // namespace gms::mounts
