// When to try a back end again after it failed: 1, 2, 4 … `cap` seconds,
// then a random delay in [cap, 2·cap) so that many proxies that lost the
// same camera do not come back in lockstep (live555ProxyServer's schedule,
// with a configurable cap; 256 s by default). A success resets it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace gms::proxy {

class ReconnectPolicy {
 public:
  using Random = std::function<uint32_t()>;  // uniform 32-bit values

  explicit ReconnectPolicy(std::chrono::seconds cap = std::chrono::seconds(256),
                           Random random = {});

  // The delay before the next attempt; each call moves the schedule on.
  std::chrono::milliseconds next_delay();
  // A connection worked: start again at 1 s.
  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  std::chrono::seconds cap_;
  Random random_;
  unsigned attempt_ = 0;
};

}  // namespace gms::proxy
