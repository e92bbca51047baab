#include "core/path_registry.h"

#include <chrono>

#include "core/log.h"
#include "core/off_thread.h"

namespace gms {

void PathRegistry::clear(Entry& e) {
  if (e.client) {
    g_weak_ref_clear(e.client);
    delete e.client;
  }
  e = Entry{};
}

void PathRegistry::set_on_change(std::function<void()> fn) {
  std::lock_guard<std::mutex> g(mutex_);
  on_change_ = std::move(fn);
}

void PathRegistry::notify() {
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> g(mutex_);
    fn = on_change_;
  }
  if (fn)
    fn();
}

void PathRegistry::set_max_publishers(unsigned n) {
  std::lock_guard<std::mutex> g(mutex_);
  max_publishers_ = n;
}

PathRegistry::Claim PathRegistry::claim(const std::string& path, GstRTSPClient* client,
                                        const std::string& peer, unsigned tracks,
                                        bool override_publisher, unsigned idle_timeout_s) {
  Claim c;
  {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = entries_.find(path);
    bool busy = it != entries_.end() && it->second.id != 0;
    if (busy && !override_publisher) {
      c.result = Claim::kBusy;
      c.reason = "path " + path + " already has a publisher (" + it->second.peer + ")";
      return c;
    }
    if (!busy && max_publishers_ > 0 && entries_.size() >= max_publishers_) {
      c.result = Claim::kLimit;
      c.reason = "max-publishers (" + std::to_string(max_publishers_) + ") reached";
      return c;
    }
    Entry& e = entries_[path];
    if (busy) {
      if (auto* old = static_cast<GstRTSPClient*>(g_weak_ref_get(e.client)))
        c.replaced = Ref<GstRTSPClient>::adopt(old);
      clear(e);
    }
    e.id = next_id_++;
    e.tracks = tracks;
    e.idle_timeout_s = idle_timeout_s;
    e.peer = peer;
    e.client = new GWeakRef;
    g_weak_ref_init(e.client, client);
    c.id = e.id;
  }
  changed_.notify_all();
  notify();
  return c;
}

void PathRegistry::release(const std::string& path, uint64_t id) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.id != id)
      return;
    clear(it->second);
    entries_.erase(it);
  }
  GMS_LOG_INFO("path %s: publisher gone", path.c_str());
  notify();
}

void PathRegistry::recording(const std::string& path, uint64_t id) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.id != id)
      return;
    it->second.recording_since_us = g_get_monotonic_time();
  }
  notify();
}

unsigned PathRegistry::tracks(const std::string& path) const {
  std::lock_guard<std::mutex> g(mutex_);
  auto it = entries_.find(path);
  return it == entries_.end() ? 0 : it->second.tracks;
}

bool PathRegistry::wait_publisher(const std::string& path, unsigned timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = entries_.find(path);
    return it != entries_.end() && it->second.tracks > 0;
  });
}

unsigned PathRegistry::publishers() const {
  std::lock_guard<std::mutex> g(mutex_);
  return static_cast<unsigned>(entries_.size());
}

std::vector<PathRegistry::Active> PathRegistry::active() const {
  std::lock_guard<std::mutex> g(mutex_);
  std::vector<Active> out;
  for (const auto& [path, e] : entries_) {
    Active a{path, e.id, e.tracks, e.recording_since_us, e.idle_timeout_s, {}, e.peer};
    if (auto* c = static_cast<GstRTSPClient*>(g_weak_ref_get(e.client)))
      a.client = Ref<GstRTSPClient>::adopt(c);
    out.push_back(std::move(a));
  }
  return out;
}

void PathRegistry::kick(const std::string& path, uint64_t id, const std::string& why) {
  Ref<GstRTSPClient> client;
  {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.id != id)
      return;
    if (auto* c = static_cast<GstRTSPClient*>(g_weak_ref_get(it->second.client)))
      client = Ref<GstRTSPClient>::adopt(c);
    clear(it->second);
    entries_.erase(it);
  }
  GMS_LOG_WARN("path %s: publisher cut off: %s", path.c_str(), why.c_str());
  // Its close tears the publisher's media down on the calling thread: not
  // the control thread's to wait for (off_thread.h).
  if (client)
    run_off_thread("gms-drop", [client] { gst_rtsp_client_close(client.get()); });
}

}  // namespace gms
