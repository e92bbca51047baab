// Wakes an RTSP client thread that waits for a file media's streams to move
// on (a segment after a seek, the first packet after it, the end): every
// packet and event that leaves a sending stream's payloader wakes the
// waiters, who check again what they wait for. No polling, no sleep.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace gms {

class MediaProgress {
 public:
  using Clock = std::chrono::steady_clock;

  // The media's (made at the first call); every sending stream of the media
  // is watched from then on (streams added later are at the next call).
  static std::shared_ptr<MediaProgress> of(GstRTSPMedia* media);

  // Returns true as soon as `ready()` is, false if it still is not at
  // `deadline`. `ready` runs on the calling thread, outside our lock.
  bool wait_until(const std::function<bool()>& ready, Clock::time_point deadline);

  // Streaming threads: something passed; cheap when nobody waits.
  void notify();

 private:
  std::mutex lock_;  // protects generation_; a leaf lock
  std::condition_variable cond_;
  uint64_t generation_ = 0;
  std::atomic<int> waiters_{0};
};

}  // namespace gms
