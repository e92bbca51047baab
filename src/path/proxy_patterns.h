// The paths a pattern proxy makes on demand: `[path /live/*]` with
// `proxy=rtsp://origin:8554/$path` proxies /live/cam1 from
// rtsp://origin:8554/live/cam1, each concrete path with its own back-end
// session, linger and reconnect. A path is made by the first DESCRIBE or
// SETUP that names it (on an RTSP client thread, through the mount
// points), adopted by the server on the control context, and goes when
// nothing uses it any more (after linger, or when the back end has no such
// stream).
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "mounts/proxy_mount.h"
#include "path/traffic_board.h"

namespace gms {

class ProxyPatterns {
 public:
  // `rtsp://o/$path` for "/live/cam1" → `rtsp://o/live/cam1`.
  static std::string expand_url(const std::string& url, const std::string& path);

  // Control context, before clients come: where back ends run, what to
  // call (from any thread) when a path was made, and where each path's
  // msstats elements report (the board its readers are counted on).
  void attach(GMainContext* control, std::function<void()> on_new,
              std::shared_ptr<TrafficBoard> board);

  // Any thread: the factory for `path` (a pattern's configuration with its
  // concrete name), its back end ready to connect at the first viewer.
  Ref<GstRTSPMediaFactory> make(PathConfig path, GstRTSPAddressPool* pool);

  // Control context: the paths made since the last call.
  std::vector<std::shared_ptr<mounts::ProxyPath>> take_new();
  // Control context: whether `name` is a path made here.
  bool owns(const std::string& name) const;
  // Control context: true (and `name` forgotten) when nothing uses it.
  bool retire_if_idle(const std::string& name);
  // Control context: forgets `name` whatever it does (its pattern went).
  void forget(const std::string& name);

 private:
  Ref<GMainContext> control_;
  std::function<void()> on_new_;
  std::shared_ptr<TrafficBoard> board_;

  mutable std::mutex lock_;  // protects everything below
  std::map<std::string, std::shared_ptr<mounts::ProxyPath>> paths_;
  std::vector<std::shared_ptr<mounts::ProxyPath>> fresh_;
};

}  // namespace gms
