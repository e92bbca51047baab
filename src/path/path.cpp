#include "path/path.h"

namespace gms {

Path::Path(std::string name, std::shared_ptr<Source> source)
    : name_(std::move(name)), source_(std::move(source)) {}

Path::~Path() { stop(); }

void Path::stop() {
  recorder_.reset();  // closes the open segment (EOS)
  if (source_)
    source_->stop();
}

void Path::update_recording(bool wanted, const record::RecordSettings& settings,
                            GMainContext* control) {
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
  recorder_->start(channels, source_->track_caps());
}

}  // namespace gms
