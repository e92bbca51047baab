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

// The shared-media cache key of a factory: the path without the query (so
// `?token=` variants share one pipeline) and a generation that moves on when
// the current media starts to unprepare. gst-rtsp-server 1.22 hands a
// media that is being unprepared by its last viewer to a new viewer, who
// then gets 503 (fixed upstream in 1.24, 55c961a); a new key makes a new
// media instead. Factories call this from their gen_key vfunc.
gchar* shared_media_key(GstRTSPMediaFactory* factory, const GstRTSPUrl* url);
// Moves the key on: the next viewer gets a new media (the current one ended).
void renew_shared_media(GstRTSPMediaFactory* factory);

// A pool for `range` (empty when the range is refused).
Ref<GstRTSPAddressPool> make_address_pool(const MulticastRange& range);

}  // namespace gms::mounts
