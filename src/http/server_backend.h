// The HTTP API's view of a server: every handler reads and acts through
// the public embedding API (gst-mediaserver/server.h) and nothing else, so
// that an application gets whatever the API can do.
#pragma once

#include <gst-mediaserver/server.h>

#include "http/http_api.h"

namespace gms::http {

// `server` outlives the backend (it owns the HttpApi that calls it).
ApiBackend backend_of(Server& server);

}  // namespace gms::http
