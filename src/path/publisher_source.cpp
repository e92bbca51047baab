#include "path/publisher_source.h"

#include "core/relay_channel.h"

namespace gms {

std::vector<std::string> PublisherSource::ready_channels() const {
  std::vector<std::string> out;
  for (const auto& a : registry_->active()) {
    if (a.path != path_ || a.recording_since_us == 0)
      continue;
    for (unsigned i = 0; i < a.tracks; ++i)
      out.push_back(relay_channel(path_, i));
  }
  return out;
}

PathState PublisherSource::path_state() const {
  if (!live())
    return PathState::kIdle;
  return ready_channels().empty() ? PathState::kStarting : PathState::kReady;
}

std::vector<Ref<GstCaps>> PublisherSource::track_caps() const {
  std::vector<Ref<GstCaps>> out;
  for (const auto& ch : ready_channels()) {
    auto f = sinks_->figures(ch);
    if (!f || !f->current)
      return {};
    out.push_back(f->current);
  }
  return out;
}

}  // namespace gms
