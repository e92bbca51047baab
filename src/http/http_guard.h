// What libsoup's server does not bound by itself, put on a SoupServer:
// - a connection must send a request's headers within kHeaderDeadline of
//   connecting, or of its last answer when kept alive; an idle or trickling
//   one is shut down, so that idle connections cannot pile up;
// - a request body over kMaxBody, or of a length not given up front
//   (chunked), is refused (413 / 411) before any of it is read: libsoup
//   would read a whole body into memory before a handler sees it.
//
// Runs on the server's context; holds nothing after the server is gone
// but the timers of connections still open.
#pragma once

#include <cstdint>

typedef struct _SoupServer SoupServer;

namespace gms::http {

inline constexpr unsigned kHeaderDeadlineSeconds = 10;
inline constexpr int64_t kMaxBody = 64 * 1024;

void guard_http_server(SoupServer* server);

}  // namespace gms::http
