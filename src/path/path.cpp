#include "path/path.h"

namespace gms {

Path::Path(std::string name, std::shared_ptr<Source> source, std::shared_ptr<PathTraffic> traffic)
    : name_(std::move(name)), source_(std::move(source)), traffic_(std::move(traffic)) {}

Path::~Path() { stop(); }

void Path::stop() {
  stopping_ = true;
  recorder_.reset();  // closes the open segment (EOS)
  if (source_)
    source_->stop();
}

PathEvent Path::event(PathEvent::Kind kind) const {
  PathEvent e;
  e.kind = kind;
  e.path = name_;
  return e;
}

void Path::source_changed() {
  const bool now = !source_->ready_channels().empty();
  if (now == delivering_)
    return;
  delivering_ = now;
  PathEvent e = event(now ? PathEvent::Kind::kSourceReady : PathEvent::Kind::kSourceLost);
  if (now)
    e.caps = source_->track_caps();
  events_.emit(e);
}

void Path::update_recording(bool wanted, const record::RecordSettings& settings,
                            GMainContext* control) {
  source_changed();
  source_->hold(wanted);
  if (!wanted) {
    recorder_.reset();
    return;
  }
  auto channels = source_->ready_channels();
  if (channels.empty()) {
    // A proxy or a launch line comes back by itself and the recorder waits
    // in the relay meanwhile; a publisher's recording ends with it.
    if (!source_->returns_after_outage())
      recorder_.reset();
    return;
  }
  if (recorder_)
    return;
  if (!status_)
    status_ = std::make_shared<record::RecordingStatus>();
  recorder_ = std::make_unique<record::PathRecorder>(name_, settings, control, status_);
  // The recorder lives in this Path and calls on the control context.
  recorder_->on_segment_closed([this](const std::string& file) {
    PathEvent e = event(PathEvent::Kind::kSegmentWritten);
    e.segment = file;
    events_.emit(e);
  });
  recorder_->start(channels, source_->track_caps());
}

}  // namespace gms
