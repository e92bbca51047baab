// The RTCP that enters a media's RTP sessions (viewers' receiver reports,
// a publisher's sender reports, over UDP or interleaved in the RTSP
// connection) is checked before the session parses it (rtcp_check.h): a
// compound that is not sound is dropped, counted, and logged at most every
// 10 s per media. The check sits on each rtpsession's RTCP input, after
// the SRTP decoder where there is one, so it sees what the parser would.
//
// A session keeps every SSRC its RTCP names as a source, and the time
// before it forgets one that went silent grows with their number (the
// RTCP interval scales with the members): a TCP publisher sending 10 000
// sound reports a second from ever new SSRCs grew the server by 32 MB in
// 2 s, without bound. A publisher's track is one source (ssrc_unifier.h),
// so its sessions take RTCP naming a few SSRCs at most; what names others
// is dropped and counted. A shared PLAY media's sessions hear every viewer
// and take any number (a viewer could grow them the same way: open).
#pragma once

#include <gst/gst.h>

#include <string>

namespace gms::mounts {

// How many SSRCs a publisher's RTCP may name per track over its session:
// its own, and a few more for an encoder that restarts with a new one.
constexpr unsigned kPublisherRtcpSources = 8;

// For the RTP sessions `pipeline` has and those it gets later (the library
// makes them when the media is prepared). `path`: for the log.
// `max_sources`: SSRCs each session may learn from RTCP (0: any number).
void guard_rtcp_input(GstBin* pipeline, const std::string& path, unsigned max_sources);

}  // namespace gms::mounts
