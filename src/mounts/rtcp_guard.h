// The RTCP that enters a media's RTP sessions (viewers' receiver reports,
// a publisher's sender reports, over UDP or interleaved in the RTSP
// connection) is checked before the session parses it (rtcp_check.h): a
// compound that is not sound is dropped, counted, and logged at most every
// 10 s per media. The check sits on each rtpsession's RTCP input, after
// the SRTP decoder where there is one, so it sees what the parser would.
#pragma once

#include <gst/gst.h>

#include <string>

namespace gms::mounts {

// For the RTP sessions `pipeline` has and those it gets later (the library
// makes them when the media is prepared). `path`: for the log.
void guard_rtcp_input(GstBin* pipeline, const std::string& path);

}  // namespace gms::mounts
