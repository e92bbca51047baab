#include "relay/relay_hub.h"

#include <algorithm>

namespace gms::relay {

Consumer::Result Consumer::pop(Item& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [&] { return flushing_ || !queue_.empty(); }))
    return Result::kTimeout;
  if (flushing_)
    return Result::kFlushing;
  out = std::move(queue_.front());
  queue_.pop_front();
  if (out.buffer) {
    bytes_ -= gst_buffer_get_size(out.buffer.get());
    pushed_++;
  }
  return Result::kItem;
}

void Consumer::set_flushing(bool flushing) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    flushing_ = flushing;
  }
  cv_.notify_all();
}

size_t Consumer::queued_bytes() const {
  std::lock_guard<std::mutex> g(mutex_);
  return bytes_;
}

void Consumer::offer(Item item, size_t bytes) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    if (item.buffer) {
      if (waiting_key_ && !item.key) {
        if (recovering_)
          dropped_++;  // lost to an earlier overflow, not a late join
        return;
      }
      if (bytes_ + bytes > max_bytes_) {
        // Too slow: lose the backlog, keep the newest caps, and restart at a
        // key frame so the reader never decodes a broken picture.
        Ref<GstCaps> caps;
        uint64_t lost = 0;
        for (auto& q : queue_) {
          if (q.caps)
            caps = q.caps;
          else
            ++lost;
        }
        queue_.clear();
        bytes_ = 0;
        dropped_ += lost + (item.key ? 0 : 1);
        if (caps)
          queue_.push_back(Item{caps, {}, item.generation, false});
        waiting_key_ = !item.key;
        recovering_ = !item.key;
        if (!item.key)
          return;
      }
      waiting_key_ = false;
      recovering_ = false;
      bytes_ += bytes;
    }
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

uint64_t Channel::attach_producer() {
  std::lock_guard<std::mutex> g(mutex_);
  current_ = next_id_++;
  generation_++;
  joined_us_ = g_get_monotonic_time();
  // The old producer's pictures do not continue into the new one's.
  cache_.clear();
  cache_bytes_ = 0;
  cache_valid_ = false;
  return current_;
}

void Channel::detach_producer(uint64_t id) {
  std::lock_guard<std::mutex> g(mutex_);
  if (id != current_)
    return;
  current_ = 0;
  left_us_ = g_get_monotonic_time();
}

void Channel::set_caps(uint64_t id, GstCaps* caps) {
  std::lock_guard<std::mutex> g(mutex_);
  if (id != current_ || !caps)
    return;
  if (caps_ && gst_caps_is_equal(caps_.get(), caps))
    return;
  caps_ = Ref<GstCaps>::borrow(caps);
  for (auto& c : consumers_)
    c->offer(Item{caps_, {}, generation_, false}, 0);
}

void Channel::push(uint64_t id, GstBuffer* buffer, bool key, gint64 captured_ns) {
  size_t bytes = gst_buffer_get_size(buffer);
  std::lock_guard<std::mutex> g(mutex_);
  if (id != current_)
    return;
  last_data_us_ = g_get_monotonic_time();
  if (captured_ns <= 0)
    captured_ns = last_data_us_ * 1000;
  packets_++;
  auto buf = Ref<GstBuffer>::borrow(buffer);
  // The capture's wall clock: now, less the capture's age.
  const gint64 wall_us = g_get_real_time() - (last_data_us_ - captured_ns / 1000);
  if (cache_enabled_) {
    if (key) {
      cache_.clear();
      cache_bytes_ = 0;
      cache_valid_ = true;
    }
    if (cache_valid_) {
      cache_.push_back(Item{{}, buf, generation_, key, captured_ns, wall_us});
      cache_bytes_ += bytes;
      trim_cache_locked();
    }
  }
  for (auto& c : consumers_)
    c->offer(Item{{}, buf, generation_, key, captured_ns, wall_us}, bytes);
}

void Channel::trim_cache_locked() {
  if (cache_bytes_ <= cache_max_)
    return;
  // A GOP larger than the bound cannot be served from its start: drop it
  // and wait for the next key frame.
  cache_.clear();
  cache_bytes_ = 0;
  cache_valid_ = false;
}

void Channel::configure_cache(bool enabled, size_t max_bytes) {
  std::lock_guard<std::mutex> g(mutex_);
  cache_enabled_ = enabled;
  cache_max_ = max_bytes;
  if (!enabled) {
    cache_.clear();
    cache_bytes_ = 0;
    cache_valid_ = false;
  }
  trim_cache_locked();
}

std::shared_ptr<Consumer> Channel::subscribe(size_t max_bytes, bool from_cache) {
  auto c = std::make_shared<Consumer>(max_bytes);
  std::lock_guard<std::mutex> g(mutex_);
  if (caps_)
    c->offer(Item{caps_, {}, generation_, false}, 0);
  c->waiting_key_ = true;
  if (from_cache && cache_valid_) {
    for (const auto& item : cache_)
      c->offer(item, gst_buffer_get_size(item.buffer.get()));
  }
  consumers_.push_back(c);
  return c;
}

void Channel::unsubscribe(const std::shared_ptr<Consumer>& c) {
  std::lock_guard<std::mutex> g(mutex_);
  consumers_.erase(std::remove(consumers_.begin(), consumers_.end(), c), consumers_.end());
}

Channel::State Channel::state() const {
  std::lock_guard<std::mutex> g(mutex_);
  State s;
  s.producer = current_ != 0;
  s.generation = generation_;
  s.producer_left_us = left_us_;
  s.producer_joined_us = joined_us_;
  s.last_data_us = last_data_us_;
  s.packets = packets_;
  s.cached_bytes = cache_bytes_;
  s.consumers = consumers_.size();
  s.caps = caps_;
  return s;
}

std::vector<Ref<GstBuffer>> Channel::cached() const {
  std::lock_guard<std::mutex> g(mutex_);
  std::vector<Ref<GstBuffer>> out;
  if (!cache_valid_)
    return out;
  out.reserve(cache_.size());
  for (const auto& item : cache_)
    out.push_back(item.buffer);
  return out;
}

Hub& Hub::instance() {
  static Hub* hub = new Hub();  // never destroyed: elements may outlive main()
  return *hub;
}

std::shared_ptr<Channel> Hub::channel(const std::string& name) {
  std::lock_guard<std::mutex> g(mutex_);
  auto& weak = channels_[name];
  if (auto ch = weak.lock())
    return ch;
  // Forget channels nobody holds any more.
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.expired() && it->first != name)
      it = channels_.erase(it);
    else
      ++it;
  }
  auto ch = std::make_shared<Channel>(name);
  weak = ch;
  return ch;
}

std::shared_ptr<Channel> Hub::find(const std::string& name) {
  std::lock_guard<std::mutex> g(mutex_);
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.lock();
}

}  // namespace gms::relay
