// Without users the API answers only requests addressed to this machine by
// an IP address or as localhost (its Host header). Why: a page of another
// site can make its own name resolve to 127.0.0.1 once the browser has
// loaded it (DNS rebinding); its requests then go to the API under the
// page's own origin, which the same-origin check (same_origin.h) lets
// through, and without users nothing else stands in the way of reading the
// sessions or adding a proxy path to any address. Such a request names the
// page's host, which no one needs to use for a loopback API. With users, a
// browser has no credentials for that name.
#pragma once

namespace gms::http {

// True when `host` (a Host header: name or address, with an optional port;
// an IPv6 address in brackets) is an IP address, "localhost" or a name
// under ".localhost". An absent or empty Host (HTTP/1.0) is true.
bool direct_host(const char* host);

}  // namespace gms::http
