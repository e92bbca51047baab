// The socket a client's replies and interleaved data leave by, kept from
// the moment the client connected.
//
// gst-rtsp-server closes a client's connection (gst_rtsp_client_close: a
// failed write to a peer that reset, a session ended by the API) before it
// emits "closed", and another thread may ask for figures while it does:
// gst_rtsp_connection_get_write_socket() on that connection then logs a
// CRITICAL and returns NULL. A reference of our own to the GSocket stays
// valid, and says when it is closed.
#pragma once

#include <gio/gio.h>
#include <gst/rtsp-server/rtsp-client.h>

#include "gms/ref.h"

namespace gms::session {

// GstRTSPServer::client-connected (the connection is open): keeps a
// reference to its write socket on the client.
void keep_write_socket(GstRTSPClient* client);

// The kept socket while it is open; null once it is closed or when none was
// kept. Any thread.
Ref<GSocket> open_write_socket(GstRTSPClient* client);

}  // namespace gms::session
