// RelayHub: one producer, many consumers per named channel, inside one
// process. No pads, no clock: the
// elements msrelaysink / msrelaysrc are the glue around it.
//
// - A producer pushes RTP packets (with a key-frame flag) and caps.
// - Each consumer has its own bounded queue (bytes). When it is full the
//   consumer loses its queue and waits for the next key frame: a slow reader
//   loses only its own data and never blocks the producer or other readers.
// - A new consumer starts at the cached group of pictures (GOP cache: the
//   packets since the last key frame, bounded in bytes), so its first
//   picture decodes at once.
// - Producers come and go (publisher restart, override); every attach starts
//   a new generation so that consumers can keep their output continuous.
//
// Thread-safety: every method may be called from any thread. Lock order:
// Channel::mutex_ before Consumer::mutex_. Nothing is pushed downstream
// while a lock is held (consumers pop and push from their own thread).
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::relay {

// What a consumer receives: new caps, or one packet.
struct Item {
  Ref<GstCaps> caps;      // set: new caps (no buffer)
  Ref<GstBuffer> buffer;  // set: a packet
  uint64_t generation = 0;
  bool key = false;
  // Monotonic time (ns, g_get_monotonic_time's clock) at which the packet's
  // media was captured at the source, as its producer's timestamps say (or
  // when it reached the relay): tracks of one source, relayed on separate
  // channels, keep their relative timing, and a cached packet keeps its age.
  gint64 captured_ns = 0;
  // Wall clock (µs since the epoch) of the same moment: a reader can tell
  // when a cached packet's media was live.
  gint64 wall_us = 0;
};

class Consumer {
 public:
  explicit Consumer(size_t max_bytes) : max_bytes_(max_bytes) {}

  enum class Result { kItem, kTimeout, kFlushing };
  // Waits up to `timeout` for the next item.
  Result pop(Item& out, std::chrono::milliseconds timeout);
  // Wakes pop() and makes it return kFlushing until cleared.
  void set_flushing(bool flushing);

  uint64_t pushed() const noexcept { return pushed_; }    // packets handed to the reader
  uint64_t dropped() const noexcept { return dropped_; }  // packets lost to overflow
  size_t queued_bytes() const;

 private:
  friend class Channel;
  // Called with the channel's lock held; never blocks.
  void offer(Item item, size_t bytes);

  mutable std::mutex mutex_;  // protects everything below
  std::condition_variable cv_;
  std::deque<Item> queue_;
  size_t bytes_ = 0;
  const size_t max_bytes_;
  bool waiting_key_ = false;
  bool recovering_ = false;  // waiting for a key frame after an overflow
  bool flushing_ = false;
  std::atomic<uint64_t> pushed_{0}, dropped_{0};
};

class Channel {
 public:
  explicit Channel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // Producer side. `id` identifies the producer: the newest attach wins and
  // a replaced producer's pushes are ignored.
  uint64_t attach_producer();
  void detach_producer(uint64_t id);
  void set_caps(uint64_t id, GstCaps* caps);
  // `key`: the first packet of a picture that decodes on its own (with the
  // parameter sets before it in the same access unit). `captured_ns`: see
  // Item; 0 for now.
  void push(uint64_t id, GstBuffer* buffer, bool key, gint64 captured_ns = 0);

  // GOP cache: on by default, bounded in bytes. Off: consumers start at the
  // next key frame.
  void configure_cache(bool enabled, size_t max_bytes);

  // Consumer side. The consumer starts with the current caps and, when
  // `from_cache`, the cached GOP; otherwise at the next key frame.
  std::shared_ptr<Consumer> subscribe(size_t max_bytes, bool from_cache);
  void unsubscribe(const std::shared_ptr<Consumer>& c);

  struct State {
    bool producer = false;
    uint64_t generation = 0;
    gint64 producer_left_us = 0;  // monotonic time the last producer left; 0: never had one
    gint64 producer_joined_us = 0;  // monotonic time the current (or last) producer came
    gint64 last_data_us = 0;      // monotonic time of the last packet
    uint64_t packets = 0;
    size_t cached_bytes = 0;
    size_t consumers = 0;
    Ref<GstCaps> caps;
  };
  State state() const;
  // The cached GOP, oldest first (for injection into a new viewer).
  std::vector<Ref<GstBuffer>> cached() const;

 private:
  void trim_cache_locked();

  const std::string name_;
  mutable std::mutex mutex_;  // protects everything below; before Consumer::mutex_
  uint64_t current_ = 0;      // producer id attached now (0: none)
  uint64_t next_id_ = 1;
  uint64_t generation_ = 0;
  gint64 left_us_ = 0;
  gint64 joined_us_ = 0;
  gint64 last_data_us_ = 0;
  uint64_t packets_ = 0;
  Ref<GstCaps> caps_;
  bool cache_enabled_ = true;
  size_t cache_max_ = 8u << 20;
  bool cache_valid_ = false;  // the cache starts at a key frame
  std::deque<Item> cache_;
  size_t cache_bytes_ = 0;
  std::vector<std::shared_ptr<Consumer>> consumers_;
};

// The process-wide, name-keyed table of channels. A channel lives as long
// as an element (or anyone) holds it.
class Hub {
 public:
  static Hub& instance();
  std::shared_ptr<Channel> channel(const std::string& name);
  // Only if it exists now.
  std::shared_ptr<Channel> find(const std::string& name);

 private:
  std::mutex mutex_;  // protects channels_
  std::map<std::string, std::weak_ptr<Channel>> channels_;
};

}  // namespace gms::relay
