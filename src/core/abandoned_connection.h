// Connections that hold no session: closed `session-timeout` after their
// last answer or the end of their last session, whichever came later.
//
// gst-rtsp-server 1.22 keeps the media a connection's DESCRIBE prepared
// (cached for its SETUP) for as long as the connection stays open, and
// closes a connection for want of a session only once a session of it has
// ended: a client that DESCRIBEs and never SETUPs holds a pipeline for
// good, and one whose DESCRIBE was refused holds its connection (a
// descriptor, a watch) for good. A session never played ends at the
// session timeout (the pool's), which unprepares its media; its connection
// is then closed here as well, a session-timeout later (a client may
// still ask after its session expired, and is answered 454), the bound a
// client that keeps a session is held to. A connection with a
// session (playing, recording, or paused and kept alive) is left alone; so
// is one whose first request has not come yet (the front door's
// request-timeout is its bound), and one with a request being handled (a
// DESCRIBE waiting for a publisher, a file being probed).
//
// The check runs on the server's control context, at most every quarter
// of the session timeout (at least every second), and never touches a
// client thread: a connection to close has its socket shut, so that the
// library closes it in its own thread.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <memory>

namespace gms {

class ClientSignals;
struct ClientPolicy;

// At client-connected (control context).
void watch_abandoned_connection(GstRTSPClient* client, GMainContext* control,
                                const std::shared_ptr<ClientPolicy>& policy);

// The hooks that note each request and answer; once per server, before
// any pre-request handler that may refuse or wait.
void add_abandoned_connection_hooks(ClientSignals& signals);

}  // namespace gms
