#include "path/path_events.h"

#include <algorithm>

namespace gms {

const char* event_name(PathEvent::Kind k) {
  switch (k) {
    case PathEvent::Kind::kSourceReady:
      return "source-ready";
    case PathEvent::Kind::kSourceLost:
      return "source-lost";
    case PathEvent::Kind::kReaderJoined:
      return "reader-joined";
    case PathEvent::Kind::kReaderLeft:
      return "reader-left";
    case PathEvent::Kind::kSegmentWritten:
      return "segment-written";
  }
  return "";
}

PathEvents::Token PathEvents::subscribe(Callback fn) {
  const Token t = next_++;
  observers_.push_back({t, std::make_shared<Callback>(std::move(fn))});
  return t;
}

void PathEvents::unsubscribe(Token token) {
  std::erase_if(observers_, [token](const Observer& o) { return o.token == token; });
}

void PathEvents::emit(const PathEvent& event) {
  // A copy: callbacks may change the list. One removed meanwhile is skipped.
  const auto now = observers_;
  for (const auto& o : now) {
    const bool still = std::any_of(observers_.begin(), observers_.end(),
                                   [&](const Observer& x) { return x.token == o.token; });
    if (still)
      (*o.fn)(event);
  }
}

}  // namespace gms
