// gst-rtsp-server 1.22 puts an rtpulpfecdec after the jitterbuffer of
// every stream a publisher sends, FEC or not. When a packet is missing the
// jitterbuffer tells it with a GstRTPPacketLost event, and the 1.22
// decoder asserts that its caps named an SSRC, which a publisher's SDP
// rarely does: one sequence number skipped (packets lost over UDP, or a
// malformed packet dropped by the RTP session) aborted the whole server.
// Without FEC the decoder has nothing to recover, so the events are
// dropped before it.
#pragma once

#include <gst/gst.h>

namespace gms::mounts {

// Drops GstRTPPacketLost events on their way into `decoder` (an
// rtpulpfecdec) while it has no FEC payload type.
void drop_lost_events_before(GstElement* decoder);

}  // namespace gms::mounts
