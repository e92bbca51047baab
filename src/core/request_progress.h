// A request begun and never finished, on a connection the library reads.
// The front door reads a connection's first request whole (its body too)
// within request-timeout; gst-rtsp-server 1.22 waits for the rest of any
// later request (headers, or the body its Content-Length announces) for as
// long as the connection stays open: 60 s without a session, for good with
// one. Each client is watched from the control context instead: when bytes
// have come in since its last request began or was answered, and no request
// has begun for `timeout`, its connection is closed (its socket shut, so
// that the library closes it in its own thread).
//
// The kernel's count of bytes received (TCP_INFO) tells that something came;
// a connection carrying interleaved RTP or RTCP (set up over TCP) is left
// alone from its SETUP on, since those bytes are no requests, and so is a
// tunnelled one (its requests come through another socket).
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <chrono>

namespace gms {

// At client-connected, before the client reads.
void watch_request_progress(GstRTSPClient* client, GMainContext* control,
                            std::chrono::milliseconds timeout);

}  // namespace gms
