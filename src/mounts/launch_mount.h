// Launch-line mounts. A shared line runs once, in a pipeline of its own
// (LaunchRelay), into relay channels that its viewers (one shared PLAY media
// of msrelaysrc, as for proxy and publish paths) and its recorder read. A
// line with shared=false, or without payloaders named pay0…, is built per
// media by the stock factory.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"
#include "mounts/launch_relay.h"

namespace gms::mounts {

// A factory that builds `path.launch` on demand. A line that does not build
// (an element not installed) makes the request fail with 503 and a log line;
// pipeline errors at run time are logged with the path's name.
Ref<GstRTSPMediaFactory> make_launch_factory(const PathConfig& path, GstRTSPAddressPool* pool);

struct LaunchRelayMount {
  Ref<GstRTSPMediaFactory> factory;
  std::shared_ptr<LaunchRelay> relay;  // null for a line built per media
};

// The factory of a launch path: the viewers' factory of a LaunchRelay for a
// shared line with pay0 (nothing runs until relay->attach()), else the
// stock per-media one.
LaunchRelayMount make_launch_relay_factory(const PathConfig& path, GstRTSPAddressPool* pool);

}  // namespace gms::mounts
