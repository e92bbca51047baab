// Launch-line mounts: a gst-launch line per path, built per viewer or shared.
//
// A recorded launch path is different: its line runs once, always (with or
// without viewers), in a pipeline of its own (LaunchRelay). Each payloader's
// RTP goes into a relay channel (msrelaysink), which the path's viewers (one
// shared PLAY media of msrelaysrc, as for proxy and publish paths) and the
// recorder read: no second encoder, and a viewer joining or leaving never
// touches the source.
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

namespace gms::mounts {

// A factory that builds `path.launch` on demand. A line that does not build
// (an element not installed) makes the request fail with 503 and a log line;
// pipeline errors at run time are logged with the path's name.
Ref<GstRTSPMediaFactory> make_launch_factory(const PathConfig& path, GstRTSPAddressPool* pool);

// The relay channel of payloader `index` (pay0, pay1, …) of launch path `path`.
std::string launch_channel(const std::string& path, unsigned index);

// An always-on launch line feeding relay channels. Runs on the control
// context; readers may ask ready_channels() and wait_ready() from any thread.
class LaunchRelay {
 public:
  explicit LaunchRelay(const PathConfig& path);
  ~LaunchRelay();
  LaunchRelay(const LaunchRelay&) = delete;
  LaunchRelay& operator=(const LaunchRelay&) = delete;

  // Builds and plays the line; an error or the end of the stream restarts it
  // after 1, 2, 4 … 30 s (viewers and the recorder wait meanwhile).
  void start(GMainContext* control);
  void stop();

  // The channels, once every payloader's channel has a producer and caps;
  // empty before.
  std::vector<std::string> ready_channels() const;
  // On an RTSP client thread: waits up to 5 s for ready_channels(); empty
  // when ready, else why not.
  std::string wait_ready() const;
  unsigned streams() const;
  const PathConfig& config() const { return config_; }

 private:
  bool build(std::string& why);
  void on_message(GstMessage* msg);
  void restart_later(const std::string& why);
  void teardown();

  const PathConfig config_;
  Ref<GMainContext> control_;   // control context only, from here
  Ref<GstElement> pipeline_;
  SourceHolder bus_watch_, retry_;
  std::chrono::seconds backoff_{1};

  mutable std::mutex lock_;  // protects everything below
  unsigned streams_ = 0;
  std::string last_error_;
};

struct LaunchRelayMount {
  Ref<GstRTSPMediaFactory> factory;
  std::shared_ptr<LaunchRelay> relay;
};

// The viewers' factory of a recorded launch path (shared whatever `shared`
// says: one source for everyone). Nothing runs until relay->start().
LaunchRelayMount make_launch_relay_factory(const PathConfig& path, GstRTSPAddressPool* pool);

}  // namespace gms::mounts
