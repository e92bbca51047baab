#include "core/client_reaper.h"

#include <gst-mediaserver/server.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/tcp_transport_fence.h"

namespace gms {

ClientReaper& ClientReaper::instance() {
  static ClientReaper* reaper = new ClientReaper();  // never destroyed: its thread outlives main()
  return *reaper;
}

void ClientReaper::hold(GstRTSPClient* client, TcpTransportFence* fence) {
  std::lock_guard<std::mutex> g(lock_);
  entries_.push_back({client, fence, g_get_monotonic_time(), false});
  if (running_)
    return;
  // A thread that cannot be made now (the process at its limit) is tried
  // again at the next hand-over; the clients wait meanwhile.
  GThread* t = g_thread_try_new("gms-reaper", [](gpointer self) -> gpointer {
    static_cast<ClientReaper*>(self)->run();
    return nullptr;
  }, this, nullptr);
  if (t) {
    running_ = true;
    g_thread_unref(t);
  }
}

size_t ClientReaper::held() {
  std::lock_guard<std::mutex> g(lock_);
  return entries_.size();
}

// Said once per client (the entry marked under the lock).
void ClientReaper::warn_held(GstRTSPClient* client) {
  {
    std::lock_guard<std::mutex> g(lock_);
    for (Entry& e : entries_)
      if (e.client == client) {
        if (e.warned)
          return;
        e.warned = true;
      }
  }
  GMS_LOG_WARN("a closed TCP viewer's connection is still held after %lld s: a stream still "
               "sends to it (a session that never ended)",
               static_cast<long long>(kWarnAfterUs / G_USEC_PER_SEC));
}

// The entries whose fences are quiet. The fences are asked without the
// reaper's lock: they take the streams' locks.
std::vector<ClientReaper::Entry> ClientReaper::quiet_ones() {
  std::vector<Entry> all;
  {
    std::lock_guard<std::mutex> g(lock_);
    all = entries_;
  }
  StreamLook look;
  std::vector<Entry> quiet;
  const gint64 now = g_get_monotonic_time();
  for (const Entry& e : all) {
    if (e.fence->quiet(look))
      quiet.push_back(e);
    else if (!e.warned && now - e.since_us > kWarnAfterUs)
      warn_held(e.client);
  }
  return quiet;
}

void ClientReaper::run() {
  std::unique_lock<std::mutex> g(lock_);
  while (!entries_.empty()) {
    g.unlock();
    g_usleep(kTickMs * 1000);
    std::vector<Entry> quiet = quiet_ones();
    for (const Entry& e : quiet) {
      e.fence->forget();
      g_object_unref(e.client);  // finalized here
    }
    g.lock();
    // Out of the list only now: drain() waits for the finalizations too.
    std::erase_if(entries_, [&](const Entry& e) {
      return std::any_of(quiet.begin(), quiet.end(),
                         [&](const Entry& q) { return q.client == e.client; });
    });
    if (!quiet.empty())
      changed_.notify_all();
  }
  running_ = false;  // (under the lock: the next hold() starts a thread again)
}

bool ClientReaper::drain(unsigned timeout_ms) {
  std::unique_lock<std::mutex> g(lock_);
  return changed_.wait_for(g, std::chrono::milliseconds(timeout_ms),
                           [this] { return entries_.empty(); });
}

bool wait_for_closed_clients(unsigned timeout_ms) {
  return ClientReaper::instance().drain(timeout_ms);
}

}  // namespace gms
