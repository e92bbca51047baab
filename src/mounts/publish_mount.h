// Publish paths: clients RECORD (ANNOUNCE/SETUP/RECORD) and viewers PLAY the
// same path. The publisher's RTP goes, per track, into a relay channel
// (msrelaysink, no depayloading); every viewer of the path shares one PLAY
// media that reads the channels (msrelaysrc) and sends the packets as the
// publisher made them, so viewers get the SDP the publisher announced.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-media-factory.h>
#include <gst/rtsp-server/rtsp-mount-points.h>
#include <gst/rtsp-server/rtsp-session-pool.h>

#include <functional>
#include <memory>

#include "core/path_registry.h"
#include "mounts/track_sinks.h"
#include "path/traffic_board.h"
#include "gms/ref.h"

namespace gms {
class ClientSignals;
}

namespace gms::mounts {

// What publish paths share: the registry, the server-wide limits, and the
// context where publishers are cut off (never a streaming thread).
struct PublishContext {
  std::shared_ptr<PathRegistry> registry = std::make_shared<PathRegistry>();
  std::shared_ptr<TrackSinks> sinks = std::make_shared<TrackSinks>();
  // Every path's counters by name (publishers' tracks tap theirs here).
  std::shared_ptr<TrafficBoard> traffic = std::make_shared<TrafficBoard>();
  Ref<GstRTSPSessionPool> sessions;
  Ref<GMainContext> control;
  std::atomic<unsigned> max_viewers{0};  // server-wide, 0: no limit
};
using PublishContextPtr = std::shared_ptr<PublishContext>;

// The factory of one exact publish path ("/live/cam1").
Ref<GstRTSPMediaFactory> make_publish_factory(const PathConfig& path, const PublishContextPtr& ctx,
                                              GstRTSPAddressPool* pool);

// Mount points that know publish patterns ("/live/*"): the first ANNOUNCE to
// a path under a pattern (or a PLAY, when the pattern waits for publishers)
// mounts a factory for that exact path, since gst-rtsp-server cannot find a
// stream's control URL below a prefix mount. A proxy pattern's paths are
// mounted at their first DESCRIBE or SETUP.
Ref<GstRTSPMountPoints> make_mount_points(
    std::function<Ref<GstRTSPMediaFactory>(const PathConfig&)> make_factory);
void set_publish_patterns(GstRTSPMountPoints* mounts, std::vector<PathConfig> patterns);
// Exact paths mounted for a pattern so far (to unmount on reload).
std::vector<std::string> pattern_mounts(GstRTSPMountPoints* mounts, const std::string& pattern);
// Unmounts one exact path mounted for `pattern` if `idle()` says nobody uses
// it (a pattern proxy's path); the next request for it mounts it again.
bool retire_pattern_mount(GstRTSPMountPoints* mounts, const std::string& pattern,
                          const std::string& path, const std::function<bool()>& idle);

// What every client runs: ANNOUNCE checks (SDP, busy path, limits), PLAY of
// a path without publisher (404 or wait), max-viewers, a late joiner's key
// frame, and refusal reasons in the status line.
void add_publish_hooks(ClientSignals& signals, const PublishContextPtr& ctx);
// The reason the next error response of `client` names in its status line
// ("403 Forbidden (why)"), for refusals decided elsewhere.
void set_refusal_reason(GstRTSPClient* client, const std::string& why);

// Marks a PLAY media whose streams are msrelaysrc elements named pay0…: a
// viewer joining it late gets the last GOP at once (RTP-Info rewritten),
// packets leave without the sinks' rate control, and its sessions count as
// viewers of `path` for max-viewers. Publish and proxy paths use it.
void mark_relay_play_media(GstRTSPMedia* media, const std::string& path);

// Whether a viewer's PLAY joins `media` while it runs: a live media plays
// from its preparation on, but holds its streams at their first packets
// until its first PLAY, which then gets them.
bool joins_running_media(GstRTSPMedia* media);

// Called every second on the control context: cuts publishers that send
// nothing for their path's publisher-timeout.
void check_idle_publishers(PublishContext& ctx);

}  // namespace gms::mounts
