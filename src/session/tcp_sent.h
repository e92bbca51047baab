// Packets sent to each TCP (or tunnelled) viewer.
//
// gst-rtsp-server 1.22 feeds every TCP viewer of a stream from one appsink
// and writes to its connection through the client's private send path; the
// functions a transport calls cannot be wrapped with the originals kept, and
// the client's send function takes a watch only the library holds. What the
// library does promise: each RTP packet the stream's payloader outputs goes
// to every TCP transport the stream has at that moment, in order, or the
// transport is dropped as too slow (it never skips a packet for one viewer).
// So one counter per stream, at the sink pad of its TCP appsink, gives
// each viewer's count as the difference between the counter now and when
// it was added to the stream (its PLAY; a PAUSE takes it out, a later PLAY
// back in).
//
// Cost per packet: one atomic add per stream, whatever the number of
// viewers; per viewer only at PLAY, PAUSE and when read.
//
// The count is what was handed to the library for the viewer, not what its
// socket took: the sample the appsink holds and the transport's backlog
// are counted early.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <cstdint>
#include <optional>

#include "gms/ref.h"

namespace gms::session {

// A PLAY puts the session media's transports in their streams: the library
// does so when it completes the pipeline, right after the pre-play hooks.
// Called from the adjust_play_response hook (an RTSP client thread), or
// from a pre-play hook that closed the streams to new packets (a relay's
// TCP joiner: tcp_join_gate.h), where the count is exact. Not later, at
// play-request: that signal comes after the library's own work and other
// handlers, and on a busy machine a running media had sent the new viewer
// a few hundred milliseconds of packets by then. Transports already
// counting are left alone (a PLAY that seeks).
void tcp_transports_playing(GstRTSPSessionMedia* sm);

// The same for one transport whose stream was closed to new packets
// (tcp_join_gate.h): its count starts from `base`, the stream's counter
// when it was closed (tcp_entered).
void tcp_transport_playing_from(GstRTSPStreamTransport* trans, uint64_t base);

// The stream's counter: RTP packets that entered its TCP appsink; nullopt
// when it has none.
std::optional<uint64_t> tcp_entered(GstRTSPStream* stream);

// A PAUSE took them out (an RTSP client thread, after the library paused).
void tcp_transports_paused(GstRTSPSessionMedia* sm);

// RTP packets the stream gave `trans` while it was playing; nullopt for a
// transport no PLAY was seen for. Any thread.
std::optional<uint64_t> tcp_packets_sent(GstRTSPStreamTransport* trans);

// The sink pad of the stream's TCP appsink, where its TCP viewers' packets
// enter; null when the library has not made one.
Ref<GstPad> tcp_appsink_pad(GstRTSPStream* stream);

// An RTP packet's sequence number and timestamp.
struct RtpMark {
  uint16_t seq = 0;
  uint32_t rtptime = 0;
};
std::optional<RtpMark> rtp_mark(GstBuffer* packet);

// The last packet that entered the stream's TCP appsink; nullopt when none
// did since it was counted.
std::optional<RtpMark> tcp_last_entered(GstRTSPStream* stream);

}  // namespace gms::session
