#include "proxy/reconnect_policy.h"

#include <glib.h>

#include <algorithm>

namespace gms::proxy {

ReconnectPolicy::ReconnectPolicy(std::chrono::seconds cap, Random random)
    : cap_(std::max(cap, std::chrono::seconds(1))), random_(std::move(random)) {
  if (!random_)
    random_ = [] { return g_random_int(); };
}

std::chrono::milliseconds ReconnectPolicy::next_delay() {
  using std::chrono::milliseconds;
  const int64_t cap_ms = std::chrono::duration_cast<milliseconds>(cap_).count();
  unsigned n = attempt_++;
  if (n < 32) {  // 1000 << 32 is far past any cap and far from overflow
    int64_t d = int64_t{1000} << n;
    if (d < cap_ms)
      return milliseconds(d);
  }
  // Past the cap: uniform in [cap, 2·cap).
  return milliseconds(cap_ms + static_cast<int64_t>(random_() % static_cast<uint64_t>(cap_ms)));
}

}  // namespace gms::proxy
