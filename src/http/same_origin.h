// The API has no CORS: no page of another site may use it. Browsers name
// the page a request comes from in Origin (on every cross-origin request,
// and on same-origin ones but GET and HEAD), and they send some
// cross-origin requests without asking first: a form's POST, say, which
// would add a path or start a recording for any page the user opens (the
// API needs no credentials on loopback without users, and a browser sends
// the credentials it has for the API along). Such a request is refused
// before anything is done; a request without Origin (curl, scrapers,
// balancers) is not a browser's cross-origin one.
#pragma once

namespace gms::http {

// True when `origin` (the Origin header, null when absent) names another
// origin than the API's own, `scheme://` + `host` (the Host header).
bool cross_origin(const char* origin, const char* host, bool https);

}  // namespace gms::http
