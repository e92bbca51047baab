// Path: one live path as the server owns it: its source, its recorder and
// what its recording did, its figures (PathTraffic), its state and its
// events, and the API's start/stop. The recorder follows the source's
// events: it starts when the source delivers, stays through an outage of a
// source that comes back, and ends with a publisher.
//
// Control context only (its PathTraffic is thread-safe).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "path/path_events.h"
#include "path/path_state.h"
#include "path/path_traffic.h"
#include "path/source.h"
#include "record/path_recorder.h"

namespace gms {

class Path {
 public:
  Path(std::string name, std::shared_ptr<Source> source,
       std::shared_ptr<PathTraffic> traffic = std::make_shared<PathTraffic>());
  ~Path();
  Path(const Path&) = delete;
  Path& operator=(const Path&) = delete;

  const std::string& name() const { return name_; }
  Source& source() const { return *source_; }
  PathState state() const { return stopping_ ? PathState::kStopping : source_->path_state(); }
  PathEvents& events() { return events_; }
  PathTraffic& traffic() const { return *traffic_; }

  // The source may have become ready or been lost: tells the subscribers.
  void source_changed();
  // Brings the recorder in line with `wanted` and the source's channels.
  void update_recording(bool wanted, const record::RecordSettings& settings, GMainContext* control);
  // The source stops for good; the recorder closes its segment.
  void stop();
  // A recorder writes this path's segments now (retention spares its newest).
  bool recording() const { return recorder_ && recorder_->running(); }

  // POST …/start|stop: wins over the configuration until the next one.
  std::optional<bool> record_override;
  // What its recording did; kept when the recorder goes. Null: never recorded.
  const std::shared_ptr<record::RecordingStatus>& status() const { return status_; }

 private:
  PathEvent event(PathEvent::Kind kind) const;

  const std::string name_;
  std::shared_ptr<Source> source_;
  std::shared_ptr<PathTraffic> traffic_;
  std::unique_ptr<record::PathRecorder> recorder_;
  std::shared_ptr<record::RecordingStatus> status_;
  PathEvents events_;
  bool delivering_ = false;  // as last told to the subscribers
  bool stopping_ = false;
};

}  // namespace gms
