// RTP-Info of a PLAY that seeked a file media, computed from the first RTP
// packet each stream sends after the seek.
//
// gst-rtsp-server 1.22 takes a blocked stream's "running time" as the
// *stream* time of its first packet (rtsp-stream.c:rtp_pad_blocking,
// gst_segment_to_stream_time), and when that packet lies before its segment's
// start (qtdemux's audio frame that straddles the key frame it seeked to) it
// falls back to the payloader's stats, a real running time. The smallest of
// these mixed values is the reference of every stream's rtptime: after
// `Range: npt=2-` on an MP4 the video's rtptime was 2 s (the segment's time)
// before its first packet. Here every value is a running time of the same
// segment as the packet, so no scale is mixed.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>
#include <gst/rtsp-server/rtsp-session-media.h>

#include <string>

namespace gms {

// RTSP client thread, right before a file media's seek: from then on, each
// stream remembers the first RTP packet that follows the seek's flush (a
// probe on the payloader's source pad, added at the first seek).
void watch_first_packets(GstRTSPMedia* media);

// RTSP client thread, once the seek's PLAY reply has its Range: the RTP-Info
// of the session's streams, each rtptime the RTP time of the Range's start
// `npt_start` (the first packets' earliest when NONE or outside a stream's
// segment). Waits up to `wait_us` for a stream that has not sent its first
// packet yet (one that ended has none). Empty when a stream has no packet:
// the library's value stays.
std::string rtp_info_from_first_packets(GstRTSPSessionMedia* sessmedia, GstClockTime npt_start,
                                        gint64 wait_us);

}  // namespace gms
