// Settings every mount kind applies to its factory: sharing, transports,
// multicast pool, jitterbuffer latency, and pipeline error reporting.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <atomic>
#include <memory>

#include "gms/ref.h"

namespace gms::mounts {

// `pool` hands out multicast groups; paths with the same range share one so
// that two paths never get the same group.
void apply_media_settings(GstRTSPMediaFactory* factory, const PathConfig& path,
                          GstRTSPAddressPool* pool);

// Viewers of the factory's medias count against `max_viewers` (0: no limit)
// of the configured path `counted_as`: a file root's files count as the
// root. apply_media_settings() sets the path's own; its medias carry the
// name (viewer_path()).
void set_viewer_limit(GstRTSPMediaFactory* factory, const std::string& counted_as,
                      unsigned max_viewers);
struct ViewerLimit {
  std::string counted_as;
  unsigned max_viewers = 0;
};
// The factory's limit; empty `counted_as` when it has none.
ViewerLimit viewer_limit(GstRTSPMediaFactory* factory);
// The configured path a media's viewers count as; null when unknown.
const char* viewer_path(GstRTSPMedia* media);
// How many viewers play `media` now (its RTCP guard's budget follows it;
// counted by the reader watch); null for a media not configured here.
std::shared_ptr<std::atomic<unsigned>> media_viewers(GstRTSPMedia* media);

// The shared-media cache key of a factory: the path without the query (so
// `?token=` variants share one pipeline) and a generation that moves on when
// the current media starts to unprepare. gst-rtsp-server 1.22 hands a
// media that is being unprepared by its last viewer to a new viewer, who
// then gets 503 (fixed upstream in 1.24, 55c961a); a new key makes a new
// media instead. Factories call this from their gen_key vfunc.
gchar* shared_media_key(GstRTSPMediaFactory* factory, const GstRTSPUrl* url);
// A gen_key vfunc that returns a key of its own (not shared_media_key())
// calls this first: the media it makes is not one of the path's keys.
void unshared_media_key();
// Moves the key on: the next viewer gets a new media (the current one ended).
void renew_shared_media(GstRTSPMediaFactory* factory);

// A pool for `range` (empty when the range is refused).
Ref<GstRTSPAddressPool> make_address_pool(const MulticastRange& range);

}  // namespace gms::mounts
