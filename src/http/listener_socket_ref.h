// libsoup 3.2 (Debian 12's) keeps one reference too many on every
// connection it accepts: its listener takes the GSocket from
// g_socket_accept(), hands it to the new connection (which takes its own
// reference) and never drops the first (fixed in libsoup 3.4). Every HTTP
// connection's GSocket, about 350 bytes, then outlived it for good: the
// descriptor is closed, the memory never comes back (a dashboard or a
// scraper that asks once a second grew the server by 1.2 MB an hour).
//
// take_listener_socket_ref() takes that reference over and drops it, once
// per connection, when libsoup announces the connection's first message.
// It does so only where the leak is certain: a libsoup older than 3.4, and
// the socket held exactly twice (the connection's reference and the lost
// one) at that moment, so that a libsoup patched in place is left alone.
#pragma once

typedef struct _SoupServerMessage SoupServerMessage;

namespace gms::http {

// From the server's "request-started" handler (the control context).
void take_listener_socket_ref(SoupServerMessage* msg);

}  // namespace gms::http
