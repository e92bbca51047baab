// The relay sinks (msrelaysink) of the published tracks, by relay channel:
// what the server knows of a publisher's tracks comes from these elements'
// pads and "stats" property, not from the relay's internals. Thread-safe.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gms/ref.h"

namespace gms::mounts {

class TrackSinks : public std::enable_shared_from_this<TrackSinks> {
 public:
  // `sink` now produces into `channel` (a newer publisher's sink replaces an
  // older one). Held weakly: the sink goes with its media.
  void add(const std::string& channel, GstElement* sink);

  struct Figures {
    bool caps = false;        // the sink has caps (its producer runs)
    Ref<GstCaps> current;     // those caps
    uint64_t packets = 0;     // packets it relayed
    gint64 last_data_us = 0;  // monotonic time of its last packet; 0: none
  };
  // nullopt when no sink produces into `channel` now.
  std::optional<Figures> figures(const std::string& channel) const;

  // Waits up to `timeout` for a sink added here to pass its first packet
  // (woken by the sink's pad, not polled); false on timeout.
  bool wait_first_packet(std::chrono::milliseconds timeout);

 private:
  struct WeakRef {
    GWeakRef ref;
    WeakRef() { g_weak_ref_init(&ref, nullptr); }
    ~WeakRef() { g_weak_ref_clear(&ref); }
  };
  void first_packet();

  mutable std::mutex mutex_;  // protects sinks_ and first_packets_
  std::condition_variable packet_;
  std::map<std::string, std::unique_ptr<WeakRef>> sinks_;
  uint64_t first_packets_ = 0;
};

}  // namespace gms::mounts
