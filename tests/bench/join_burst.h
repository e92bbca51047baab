// A join storm: many viewers PLAY a running path at the same moment while
// others are already watching it.
#pragma once

#include <cstdint>

#include "load_client.h"

namespace gms::test {

struct BurstResult {
  unsigned watchers = 0, joiners = 0;
  uint64_t watcher_lost = 0, watcher_expected = 0;
  unsigned watchers_with_loss = 0;
  // Watchers' packets per second during the storm (the stream sends ~340),
  // and the longest wait between two packets of any watcher (a stall).
  double watcher_rate = 0, watcher_max_wait_ms = 0;
  // Counted from each joiner's first key-frame packet on.
  uint64_t joiner_lost = 0, joiner_expected = 0;
  // Of joiner_lost, the packets that came in the 5 s after the counted
  // seconds: late (a player's jitterbuffer has given them up), not lost.
  uint64_t joiner_late = 0;
  // Joiners' packets that came more than 200 ms after a newer one had
  // (Seen::late), in the counted seconds and the 5 after; joiners with any.
  uint64_t joiner_overtaken = 0;
  unsigned joiners_overtaken = 0;
  unsigned joiners_with_loss = 0, joiners_without_key = 0;
  double key_p50_ms = 0, key_p95_ms = 0, key_max_ms = 0;  // PLAY sent → first key-frame packet
  uint64_t kernel_drops = 0;  // UDP receive-buffer errors of the whole host meanwhile
  double cpu_total = 0;       // server, % of a core over the counted seconds
};

// Starts `watchers` viewers one by one, then DESCRIBEs and SETUPs `joiners`
// more, sends all their PLAYs at once and counts `seconds` from there.
BurstResult run_burst(const Target& t, unsigned watchers, unsigned joiners, bool tcp, int seconds);

}  // namespace gms::test
