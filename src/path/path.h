// Path: one live path as the server owns it: its source, its recorder and
// what its recording did, and the API's start/stop. The recorder follows the
// source's events: it starts when the source delivers, stays through an
// outage of a source that comes back, and ends with a publisher.
//
// Control context only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "path/source.h"
#include "record/path_recorder.h"

namespace gms {

class Path {
 public:
  Path(std::string name, std::shared_ptr<Source> source);
  ~Path();
  Path(const Path&) = delete;
  Path& operator=(const Path&) = delete;

  const std::string& name() const { return name_; }
  Source& source() const { return *source_; }

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
  const std::string name_;
  std::shared_ptr<Source> source_;
  std::unique_ptr<record::PathRecorder> recorder_;
  std::shared_ptr<record::RecordingStatus> status_;
};

}  // namespace gms
