// RTSPS for clients of our own front door. gst-rtsp-server only makes a
// connection TLS from its GstRTSPAuth, and then every connection of the
// server, plain port included; here a socket accepted on the RTSPS port is
// marked, and the client made for it gets the server side of TLS before it
// reads anything. Plain and TLS clients share one GstRTSPServer, its paths
// and its medias.
#pragma once

#include <gio/gio.h>
#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <chrono>

namespace gms {

class ClientSignals;

// The front door, before it hands `socket` to the RTSP server: the client
// made for it speaks TLS with `certificate`.
void mark_tls_socket(GSocket* socket, GTlsCertificate* certificate);

// From GstRTSPServer::client-connected (before the client reads): a client
// on a marked socket gets its TLS server side, and is closed from `control`
// unless it has sent a complete request within `first_request` (the front
// door cannot read inside TLS, so this deadline is kept here).
void start_client_tls(GstRTSPClient* client, std::chrono::milliseconds first_request,
                      GMainContext* control);
// What every client runs: plain clients are refused the paths that require
// TLS; a TLS client's first reply disarms its deadline.
void add_tls_checks(ClientSignals& signals);

// True when the client is connected over RTSPS. Any thread.
bool client_is_tls(GstRTSPClient* client);

// Marks a factory whose path is served over RTSPS only (require-tls).
void set_factory_require_tls(GstRTSPMediaFactory* factory, bool required);

}  // namespace gms
