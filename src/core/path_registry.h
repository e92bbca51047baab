// Who publishes where: one publisher per path (claimed at ANNOUNCE), the
// server-wide publisher limit, waiting viewers, and the no-data watchdog's
// view of each publisher. Thread-safe: RTSP client threads claim and
// release; the control context runs the watchdog.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms {

class PathRegistry {
 public:
  struct Claim {
    enum Result { kOk, kBusy, kLimit } result = kOk;
    uint64_t id = 0;
    Ref<GstRTSPClient> replaced;  // override: the publisher to close
    std::string reason;
  };

  void set_max_publishers(unsigned n);

  // ANNOUNCE of `tracks` tracks on `path` by `client`.
  // `idle_timeout_s`: the watchdog cuts a recording publisher that sends
  // nothing for this long.
  Claim claim(const std::string& path, GstRTSPClient* client, const std::string& peer,
              unsigned tracks, bool override_publisher, unsigned idle_timeout_s);
  // The publisher is gone (its media unprepared or finalized); idempotent.
  void release(const std::string& path, uint64_t id);
  // RECORD accepted: the no-data watchdog starts counting.
  void recording(const std::string& path, uint64_t id);

  // Tracks of the current publisher; 0 when there is none.
  unsigned tracks(const std::string& path) const;
  bool has_publisher(const std::string& path) const { return tracks(path) > 0; }
  // Waits until `path` has a publisher, up to `timeout_ms`.
  bool wait_publisher(const std::string& path, unsigned timeout_ms);
  unsigned publishers() const;

  struct Active {
    std::string path;
    uint64_t id;
    unsigned tracks;
    gint64 recording_since_us;  // 0: not recording yet
    unsigned idle_timeout_s;
    Ref<GstRTSPClient> client;  // may be empty (gone)
    std::string peer;
  };
  std::vector<Active> active() const;
  // Closes the publisher `id` of `path` (if still current; on a thread of
  // its own) and logs why.
  void kick(const std::string& path, uint64_t id, const std::string& why);

  // Called (on the thread that made the change, no lock held) when a
  // publisher comes, starts recording or goes.
  void set_on_change(std::function<void()> fn);

 private:
  struct Entry {
    uint64_t id = 0;
    unsigned tracks = 0;
    gint64 recording_since_us = 0;
    unsigned idle_timeout_s = 5;
    GWeakRef* client = nullptr;  // owned
    std::string peer;
  };
  static void clear(Entry& e);

  void notify();

  mutable std::mutex mutex_;  // protects everything below
  std::function<void()> on_change_;
  std::condition_variable changed_;
  std::map<std::string, Entry> entries_;
  uint64_t next_id_ = 1;
  unsigned max_publishers_ = 0;
};

}  // namespace gms
