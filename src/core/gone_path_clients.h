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

#include "gms/ref.h"

namespace gms {

// Whether `sm` is a session media of the path `name` itself (not of a
// path that `name` merely starts with).
bool session_media_is(GstRTSPSessionMedia* sm, const std::string& name);

// Any thread: every client with a session on one of `names` (a path, or
// under it). Takes the server's, the clients' and the sessions' locks,
// each released around what it calls: never waits on a media.
std::vector<Ref<GstRTSPClient>> clients_of(GstRTSPServer* server,
                                           const std::vector<std::string>& names);

// Closes `clients` (found by clients_of()), and drops what they may still
// hold of `names` (their session medias of those paths; a session left
// without any goes), on a thread of its own ("gms-drop"): a client's close
// tears its media down on the calling thread, which waits for good on a
// pipeline that cannot stop, and the caller is the control thread.
void drop_off_thread(std::vector<std::string> names, std::vector<Ref<GstRTSPClient>> clients);

}  // namespace gms
