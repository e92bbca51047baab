#include "auth/failure_throttle.h"

#include <algorithm>

namespace gms::auth {

FailureThrottle::Verdict FailureThrottle::failed(const std::string& ip, int64_t now_us) {
  std::lock_guard<std::mutex> g(lock_);
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(ip);
    it = entries_.emplace(ip, Entry{}).first;
    it->second.lru = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Entry& e = it->second;
  if (e.last_us && now_us - e.last_us > kWindowUs)
    e.delay_ms = 0;  // a quiet window ends the burst
  e.times[e.count % kBurst] = now_us;
  e.count++;
  e.last_us = now_us;
  Verdict v;
  // The oldest of the last kBurst failures is within the window.
  if (e.count >= kBurst && now_us - e.times[e.count % kBurst] <= kWindowUs) {
    v.burst_started = e.delay_ms == 0;
    e.delay_ms = e.delay_ms ? std::min(e.delay_ms * 2, kMaxDelayMs) : kFirstDelayMs;
  }
  v.delay_ms = e.delay_ms;
  return v;
}

unsigned FailureThrottle::penalty(const std::string& ip, int64_t now_us) const {
  std::lock_guard<std::mutex> g(lock_);
  auto it = entries_.find(ip);
  if (it == entries_.end() || now_us - it->second.last_us > kWindowUs)
    return 0;
  return it->second.delay_ms;
}

size_t FailureThrottle::size() const {
  std::lock_guard<std::mutex> g(lock_);
  return entries_.size();
}

}  // namespace gms::auth
