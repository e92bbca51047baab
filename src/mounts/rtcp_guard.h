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
// is dropped and counted. A PLAY media's sessions hear every viewer of it:
// they take a few SSRCs per viewer it has (a player's own, and one or two
// more for one that restarts its session), and a source silent for
// minutes makes room for a new one; a viewer sending reports from ever new
// SSRCs gets no further.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>

namespace gms::mounts {

// How many SSRCs each RTP session of a media may learn from RTCP:
// `base` + `per_viewer` x the media's viewers (`viewers`, counted by the
// server as they play and leave).
struct RtcpSourceBudget {
  unsigned base = 0;  // with no per_viewer: the number; 0 and 0: any number
  unsigned per_viewer = 0;
  std::shared_ptr<const std::atomic<unsigned>> viewers;
  bool forget_silent = false;  // a source silent for 5 minutes makes room
};

// A publisher's track is one source: its own SSRC, and a few more for an
// encoder that restarts with a new one.
inline RtcpSourceBudget publisher_rtcp_budget() { return {8, 0, nullptr, false}; }
// A PLAY media's: a few per viewer over a margin for viewers that just left.
inline RtcpSourceBudget viewer_rtcp_budget(std::shared_ptr<const std::atomic<unsigned>> viewers) {
  return {32, 4, std::move(viewers), true};
}

// For the RTP sessions `pipeline` has and those it gets later (the library
// makes them when the media is prepared). `path`: for the log.
void guard_rtcp_input(GstBin* pipeline, const std::string& path, RtcpSourceBudget budget);

}  // namespace gms::mounts
