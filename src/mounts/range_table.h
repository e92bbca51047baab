// The time ranges of one recording directory that viewers asked for, by
// their URL query ("start=…&duration=…"), newest first and at most a few.
//
// One request path ("/recordings/cam") is one mount point, so one factory;
// two viewers who ask for two ranges of it at the same moment must each get
// their own. A factory that held one range only was replaced by the second
// viewer's while the first one's media was still being made, and the first
// viewer was refused. With the table, a factory builds each media from the
// range its request's query names.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace gms::mounts {

template <typename Range>
class RangeTable {
 public:
  explicit RangeTable(size_t capacity) : capacity_(capacity) {}

  // Adds or replaces the range of `query`; the oldest goes past capacity.
  void put(const std::string& query, std::shared_ptr<const Range> range) {
    std::lock_guard<std::mutex> g(lock_);
    for (auto it = recent_.begin(); it != recent_.end(); ++it)
      if (it->first == query) {
        recent_.erase(it);
        break;
      }
    recent_.emplace_front(query, std::move(range));
    while (recent_.size() > capacity_)
      recent_.pop_back();
  }

  // The range of `query`, or null: never asked for, or pushed out since.
  // A range found counts as the newest: a request that found it is about
  // to have its media made from it.
  std::shared_ptr<const Range> find(const std::string& query) {
    std::lock_guard<std::mutex> g(lock_);
    for (auto it = recent_.begin(); it != recent_.end(); ++it)
      if (it->first == query) {
        recent_.splice(recent_.begin(), recent_, it);
        return recent_.front().second;
      }
    return nullptr;
  }

  // The range asked for last, or null.
  std::shared_ptr<const Range> newest() const {
    std::lock_guard<std::mutex> g(lock_);
    return recent_.empty() ? nullptr : recent_.front().second;
  }

 private:
  const size_t capacity_;
  mutable std::mutex lock_;  // a leaf: nothing is called with it held
  std::list<std::pair<std::string, std::shared_ptr<const Range>>> recent_;
};

}  // namespace gms::mounts
