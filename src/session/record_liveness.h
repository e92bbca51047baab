// A publisher is alive while its media comes. gst-rtsp-server 1.22 keeps a
// session from expiring on RTSP requests, on the RTP and RTCP it sends
// itself, and on RTCP receiver reports it can match to a UDP viewer's
// ports; a publisher that sends RTP and nothing else (over TCP its RTCP is
// not matched either) saw its session expire at the session timeout while
// it streamed, whenever the server's own receiver reports to it came
// further apart than that.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

namespace gms::session {

// Control context: marks `client`'s RECORD sessions as used now.
void touch_record_sessions(GstRTSPClient* client);

}  // namespace gms::session
