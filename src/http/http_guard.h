// What libsoup's server does not bound by itself, put on a SoupServer:
// - a connection must send a request's headers within kHeaderDeadline of
//   connecting, or of its last answer when kept alive; an idle or trickling
//   one is shut down, so that idle connections cannot pile up;
// - a request body over kMaxBody, or of a length not given up front
//   (chunked), is refused (413 / 411) before any of it is read: libsoup
//   would read a whole body into memory before a handler sees it;
// - a burst of connections is queued by the kernel, not refused: libsoup's
//   own listener keeps GSocket's accept queue of 10, so that the 11th of
//   many clients connecting at once waited for TCP's retransmissions (200
//   connections took 18 s); listen_on() listens with a queue of kBacklog.
//
// Runs on the server's context; holds nothing after the server is gone
// but the timers of connections still open.
#pragma once

#include <gio/gio.h>

#include <cstdint>

typedef struct _SoupServer SoupServer;

namespace gms::http {

inline constexpr unsigned kHeaderDeadlineSeconds = 10;
inline constexpr int64_t kMaxBody = 64 * 1024;

inline constexpr int kBacklog = 1024;

void guard_http_server(SoupServer* server);

// soup_server_listen() on `address` (with `options`, a
// SoupServerListenOptions), but with an accept queue of kBacklog.
gboolean listen_on(SoupServer* server, GSocketAddress* address, unsigned options, GError** error);

}  // namespace gms::http
