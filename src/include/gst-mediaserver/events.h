// gst-mediaserver: what happens in a running server, told to the
// application (Server::subscribe).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gms {

struct ServerEvent {
  enum class Kind {
    kPublisherStarted,  // a client started sending to `path` (RECORD)
    kPublisherStopped,  // … and stopped (TEARDOWN, timeout, close, kick)
    kViewerJoined,      // a client started playing `path` (PLAY)
    kViewerLeft,        // … and its session ended
    kBackendUp,         // a proxy path's back end delivers (again)
    kBackendDown,       // … and was lost (the path reconnects by itself)
    kSegmentWritten,    // a recording segment was closed; `detail` is its file
    kPathAdded,         // by add_path, reload or the HTTP API
    kPathRemoved,
    kPathChanged,
  };
  Kind kind = Kind::kPathAdded;
  std::string path;     // the served path ("/live/cam1")
  std::string session;  // publisher and viewer events: the RTSP session id
  // Viewer and publisher events: the transport ("udp", "tcp", …) and the
  // client's address as "transport remote"; segment-written: the file;
  // back end events: the back end's URL (without credentials).
  std::string detail;
};

// "publisher-started", "publisher-stopped", "viewer-joined", "viewer-left",
// "backend-up", "backend-down", "segment-written", "path-added",
// "path-removed", "path-changed".
const char* event_name(ServerEvent::Kind kind);

using EventCallback = std::function<void(const ServerEvent&)>;
using EventToken = uint64_t;  // never 0

}  // namespace gms
