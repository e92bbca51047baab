// The source of one published path ("/live/cam1"): whoever RECORDs to it
// now. The registry says who; its changes reach the server as events.
#pragma once

#include <memory>
#include <string>

#include "core/path_registry.h"
#include "mounts/track_sinks.h"
#include "path/source.h"

namespace gms {

class PublisherSource : public Source {
 public:
  PublisherSource(std::string path, std::shared_ptr<PathRegistry> registry,
                  std::shared_ptr<mounts::TrackSinks> sinks)
      : path_(std::move(path)), registry_(std::move(registry)), sinks_(std::move(sinks)) {}

  const char* kind() const override { return "publish"; }
  // A publisher comes and goes by itself: nothing to start or stop.
  void attach(GMainContext*) override {}
  void stop() override {}
  void hold(bool) override {}
  // The tracks' channels once the publisher has sent RECORD.
  std::vector<std::string> ready_channels() const override;
  // As the publisher's first packets set them (its SDP may lack some).
  std::vector<Ref<GstCaps>> track_caps() const override;
  bool live() const override { return registry_->has_publisher(path_); }
  // Starting between ANNOUNCE and RECORD, ready from RECORD on.
  PathState path_state() const override;
  unsigned publishers() const override { return live() ? 1 : 0; }
  // A publisher that leaves ends its recording; the next one starts anew.
  bool returns_after_outage() const override { return false; }

 private:
  const std::string path_;
  const std::shared_ptr<PathRegistry> registry_;
  const std::shared_ptr<mounts::TrackSinks> sinks_;
};

}  // namespace gms
