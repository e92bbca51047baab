// PathEvents: what happened to a path, for whoever wants to follow it (the
// recorder, logs, a future push API) without polling: the source became
// ready (with each track's caps) or was lost, a reader joined or left, the
// recorder closed a segment.
//
// Control context only: subscribe, unsubscribe and emit run there, so a
// callback needs no lock. A callback may unsubscribe itself or others while
// it runs; a callback subscribed during an emit first hears the next one.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gms/ref.h"

namespace gms {

struct PathEvent {
  enum class Kind { kSourceReady, kSourceLost, kReaderJoined, kReaderLeft, kSegmentWritten };
  Kind kind = Kind::kSourceReady;
  std::string path;
  std::vector<Ref<GstCaps>> caps;  // kSourceReady: each track's, when the source knows them
  std::string transport;           // reader events: "udp", "udp-multicast", "tcp"
  std::string segment;             // kSegmentWritten: the file closed
};

// "source-ready", "source-lost", "reader-joined", "reader-left", "segment-written".
const char* event_name(PathEvent::Kind k);

class PathEvents {
 public:
  using Token = uint64_t;  // never 0
  using Callback = std::function<void(const PathEvent&)>;

  Token subscribe(Callback fn);
  // Unknown or already removed tokens are ignored.
  void unsubscribe(Token token);
  void emit(const PathEvent& event);
  size_t size() const { return observers_.size(); }

 private:
  // Shared: a callback that unsubscribes itself while it runs lives on
  // until it returns.
  struct Observer {
    Token token;
    std::shared_ptr<Callback> fn;
  };
  std::vector<Observer> observers_;
  Token next_ = 1;
};

}  // namespace gms
