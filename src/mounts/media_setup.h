// Settings every mount kind applies to its factory: sharing, transports,
// multicast pool, jitterbuffer latency, and pipeline error reporting.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include "gms/ref.h"

namespace gms::mounts {

// `pool` hands out multicast groups; paths with the same range share one so
// that two paths never get the same group.
void apply_media_settings(GstRTSPMediaFactory* factory, const PathConfig& path,
                          GstRTSPAddressPool* pool);

// A pool for `range` (empty when the range is refused).
Ref<GstRTSPAddressPool> make_address_pool(const MulticastRange& range);

}  // namespace gms::mounts
