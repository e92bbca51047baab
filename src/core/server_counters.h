// Server-wide counters for /metrics that several parts increment from any
// thread: refused connections by reason (the front door), authentication
// failures (whatever checks credentials calls auth_failed()). Counters
// only go up.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace gms {

class ServerCounters {
 public:
  enum class Refusal { kMaxConnections, kMaxPerAddress, kRequestSize, kRequestTimeout, kBadRequest };
  static constexpr size_t kRefusals = 5;
  // "max-connections", "max-connections-per-address", "request-size",
  // "request-timeout", "bad-request": the metric's label values.
  static const char* reason(Refusal r);

  void refused(Refusal r) { refused_[size_t(r)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t refusals(Refusal r) const { return refused_[size_t(r)].load(std::memory_order_relaxed); }
  void auth_failed() { auth_failures_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t auth_failures() const { return auth_failures_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kRefusals> refused_{};
  std::atomic<uint64_t> auth_failures_{0};
};

inline const char* ServerCounters::reason(Refusal r) {
  switch (r) {
    case Refusal::kMaxConnections:
      return "max-connections";
    case Refusal::kMaxPerAddress:
      return "max-connections-per-address";
    case Refusal::kRequestSize:
      return "request-size";
    case Refusal::kRequestTimeout:
      return "request-timeout";
    case Refusal::kBadRequest:
      return "bad-request";
  }
  return "bad-request";
}

}  // namespace gms
