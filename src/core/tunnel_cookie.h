// The x-sessioncookie of an RTSP-over-HTTP tunnel, bound to the client's
// address before gst-rtsp-server sees it.
//
// The library pairs a tunnel's GET and POST by the client-chosen cookie
// alone, in one table for the whole server: a POST from any host that
// knows (or guesses) a cookie writes requests into that viewer's tunnel,
// and a GET sent first with it takes the viewer's replies and media. The
// front door replaces each cookie with a keyed hash of the peer address
// and the cookie, so that halves from different addresses never meet and
// nobody can send the hashed value in a later request on purpose (the key
// is random per process). 22 hex digits: the library keeps only 23
// characters of a cookie, so cookies that differ after those no longer
// collide either.
#pragma once

#include <string>

namespace gms {

// `request`: bytes read so far of a connection's first request (a whole
// head, perhaps a body after it). Returns them with every x-sessioncookie
// value in the head replaced; other bytes unchanged.
std::string bind_tunnel_cookie(const std::string& request, const std::string& peer);

}  // namespace gms
