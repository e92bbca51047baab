// What a media file holds, found by content (typefind, demuxer, parsers:
// parsebin), with the payloader chosen for each track; cached by file
// identity so that a DESCRIBE of a known file does not probe it again.
#pragma once

#include <gst/gst.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gms/ref.h"
#include "mounts/payloaders.h"

namespace gms::mounts {

// Which version of a file: a file replaced or rewritten gets a new one.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// stat() of `path` (following nothing: the path is already resolved).
std::optional<FileIdentity> identify_file(const std::string& path);

struct TrackInfo {
  std::string stream_id;     // parsebin's stream id, stable for one file version
  Ref<GstCaps> caps;         // parsed caps as parsebin exposes them
  std::string description;   // "H.264 (High Profile)"
  std::optional<PayloadPlan> plan;  // empty: no payloader, left out of the SDP
};

struct MediaInfo {
  bool ok = false;
  std::string reason;       // why the file is not served (not media, corrupt)
  bool timed_out = false;   // not cached: the machine may just have been busy
  std::vector<TrackInfo> tracks;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::chrono::microseconds probe_time{0};

  size_t servable_tracks() const;
  // "H.264 + AAC, 5.0 s" for --check and logs.
  std::string summary() const;
};

// Opens `path` in a private pipeline (filesrc ! parsebin), waits for every
// track's caps or `timeout`, reads the duration. Blocking; runs on an RTSP
// client thread or in --check, never on a streaming thread.
MediaInfo probe_media(const std::string& path, std::chrono::milliseconds timeout);

// Probe results by path, valid while the file identity is unchanged.
// Bounded (least recently used out). Thread-safe.
class ProbeCache {
 public:
  explicit ProbeCache(size_t capacity = 4096) : capacity_(capacity) {}
  // The cached result for this file version, or a fresh probe (stored).
  // `cached` tells which (for logs and the benchmark).
  std::shared_ptr<const MediaInfo> get(const std::string& path, const FileIdentity& id,
                                       std::chrono::milliseconds timeout, bool* cached = nullptr);
  size_t size() const;

 private:
  struct Entry {
    FileIdentity id;
    std::shared_ptr<const MediaInfo> info;
    std::list<std::string>::iterator lru;
  };
  size_t capacity_;
  mutable std::mutex lock_;  // protects entries_ and lru_; never held while probing
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace gms::mounts
