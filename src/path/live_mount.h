// The one place that turns a path's configuration into its source and the
// viewers' factory, by kind; everything after works on Source.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <memory>

#include "gms/ref.h"
#include "mounts/publish_mount.h"
#include "path/source.h"

namespace gms {

struct LiveMount {
  Ref<GstRTSPMediaFactory> factory;
  std::shared_ptr<Source> source;  // null: built per viewer (shared=false launch lines)
};

// An exact live path (launch, proxy or publish; not a pattern, not files).
LiveMount make_live_mount(const PathConfig& path, GstRTSPAddressPool* pool,
                          const mounts::PublishContextPtr& publish);

// The kind of a path, for the API: "launch", "proxy", "publish", "files".
const char* kind_of(const PathConfig& path);

}  // namespace gms
