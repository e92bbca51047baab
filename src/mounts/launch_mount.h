// Launch-line mounts: a gst-launch line per path, built per viewer or shared.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include "gms/ref.h"

namespace gms::mounts {

// A factory that builds `path.launch` on demand. A line that does not build
// (an element not installed) makes the request fail with 503 and a log line;
// pipeline errors at run time are logged with the path's name.
Ref<GstRTSPMediaFactory> make_launch_factory(const PathConfig& path, GstRTSPAddressPool* pool);

}  // namespace gms::mounts
