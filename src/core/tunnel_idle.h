// An HTTP tunnel half that never becomes a tunnel: gst-rtsp-server 1.22
// keeps a GET (or POST) waiting for its other half, with no request on it,
// for its 60 s control timeout; 500 of them hold 500 descriptors and
// connection slots that long. Such a connection is closed once
// request-timeout has passed without an RTSP request through it.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <chrono>

namespace gms {

// At client-connected (control context); the deadline runs on `control`.
void close_idle_tunnel_half(GstRTSPClient* client, GMainContext* control,
                            std::chrono::milliseconds timeout);

}  // namespace gms
