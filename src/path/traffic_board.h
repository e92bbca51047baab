// TrafficBoard: every path's PathTraffic by served name, server-wide. The
// places that only know a name (a publisher's media, a viewer's PLAY) find
// the path's counters here; a Path holds its own from the start, so a
// reloaded path keeps its totals. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "path/path_traffic.h"

namespace gms {

class TrafficBoard {
 public:
  // The path's counters, made at the first ask.
  std::shared_ptr<PathTraffic> of(const std::string& path) {
    std::lock_guard<std::mutex> g(lock_);
    auto& t = paths_[path];
    if (!t)
      t = std::make_shared<PathTraffic>();
    return t;
  }
  // The path is gone for good (a publisher's path forgotten, an
  // unregistered proxy): its counters go once nobody else holds them.
  void forget(const std::string& path) {
    std::lock_guard<std::mutex> g(lock_);
    paths_.erase(path);
  }

 private:
  std::mutex lock_;  // protects paths_; taken before a PathTraffic's
  std::map<std::string, std::shared_ptr<PathTraffic>> paths_;
};

}  // namespace gms
