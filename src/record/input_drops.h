// What the recorder drops from a path's RTP before its depayloaders:
// access units over the size cap (frame_cap.h) and packets GStreamer
// 1.22's depayloaders refuse (unit_filter.h). Counted on the streaming
// threads that drop them; the recorder folds the counts into the
// recording's status on its control context when asked.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace gms::record {

struct InputDrops {
  std::atomic<uint64_t> oversized_frames{0};
  std::atomic<uint64_t> refused_packets{0};
  // Callable from any thread after a count moved; set before the probes
  // that count are added, never changed after.
  std::function<void()> changed;
};
using InputDropsPtr = std::shared_ptr<InputDrops>;

}  // namespace gms::record
