// The clients of paths that a reload or the HTTP API removed or changed.
// Dropping only the removed path's session medias left their connections
// open and their sessions listed: a publisher went on sending interleaved
// RTP, which the library handed to a stream that had left its pipeline (a
// CRITICAL per packet), and a viewer waited for data that never came.
// Their connections are closed instead: both see a clean end, as when the
// server stops, and may connect again to whatever the path is now.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <string>
#include <vector>

namespace gms {

// Whether `sm` is a session media of the path `name` itself (not of a
// path that `name` merely starts with).
bool session_media_is(GstRTSPSessionMedia* sm, const std::string& name);

// On the server's context: closes every client with a session on one of
// `names` (a path, or under it). Returns how many.
unsigned close_clients_of(GstRTSPServer* server, const std::vector<std::string>& names);

}  // namespace gms
