// Failed logins per client address: after kBurst failures within kWindow,
// that address's failed answers wait a penalty that doubles up to kMaxDelay.
// The table is bounded: the least recently failing address is forgotten.
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gms::auth {

class FailureThrottle {
 public:
  static constexpr unsigned kBurst = 5;
  static constexpr int64_t kWindowUs = 10'000'000;
  static constexpr unsigned kFirstDelayMs = 250;
  static constexpr unsigned kMaxDelayMs = 2000;

  explicit FailureThrottle(size_t capacity = 4096) : capacity_(capacity) {}

  struct Verdict {
    unsigned delay_ms = 0;
    bool burst_started = false;  // the first penalty of a burst: log it once
  };
  // A failed login from `ip` at `now_us` (monotonic).
  Verdict failed(const std::string& ip, int64_t now_us);
  // The penalty in force for `ip` (for any refusal to it), 0 if none.
  unsigned penalty(const std::string& ip, int64_t now_us) const;
  size_t size() const;

 private:
  struct Entry {
    int64_t times[kBurst] = {};  // the last kBurst failures, a ring
    unsigned count = 0;
    unsigned delay_ms = 0;
    int64_t last_us = 0;
    std::list<std::string>::iterator lru;
  };
  mutable std::mutex lock_;  // protects everything below
  size_t capacity_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gms::auth
