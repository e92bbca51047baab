// What a media file holds, found by content (typefind, demuxer, parsers:
// parsebin), with the payloader chosen for each track; cached by file
// identity so that a DESCRIBE of a known file does not probe it again.
#pragma once

#include <gst/gst.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
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
  bool timed_out = false;   // cached briefly: the machine may just have been busy
  std::vector<TrackInfo> tracks;
  std::string demuxer;      // factory of the outer demuxer parsebin plugged, if any
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::chrono::microseconds probe_time{0};

  size_t servable_tracks() const;
  // Whether the demuxer's own output can go straight to the payloaders
  // (qtdemux with H.264, H.265 or raw AAC): a viewer's pipeline then needs
  // no parsebin, typefinder or parser (see file_mount.cpp).
  bool payloadable_from_demuxer() const;
  // "H.264 + AAC, 5.0 s" for --check and logs.
  std::string summary() const;
};

// Opens `path` in a private pipeline (filesrc ! parsebin), waits for every
// track's caps or `timeout`, reads the duration. Blocking; runs on a probe
// thread of ProbeCache or in --check, never on an RTSP client thread or a
// streaming thread.
MediaInfo probe_media(const std::string& path, std::chrono::milliseconds timeout);

// Probe results by path, valid while the file identity is unchanged.
// Bounded (least recently used out). Thread-safe. Probes run on threads of
// their own: an RTSP client thread waits for one a bounded time only, and
// the clients that share its thread are answered meanwhile.
class ProbeCache {
 public:
  using ProbeFn = std::function<MediaInfo(const std::string& path, std::chrono::milliseconds)>;
  // At most `max_running` files are probed at once (a bound on threads an
  // attacker can start with slow files). `probe` is probe_media but in
  // tests.
  explicit ProbeCache(size_t capacity = 4096, size_t max_running = 8,
                      ProbeFn probe = probe_media);
  // The cached result for this file version, else the result of a probe
  // (started here or by another client, limited to `timeout`) if it ends
  // within `wait`; else null: still running (or too many running), ask
  // again later, the result will be cached. `cached` tells which (for logs
  // and the benchmark).
  std::shared_ptr<const MediaInfo> get(const std::string& path, const FileIdentity& id,
                                       std::chrono::milliseconds timeout,
                                       std::chrono::milliseconds wait, bool* cached = nullptr);
  size_t size() const;

 private:
  struct Running;
  struct State;
  static void probe_thread(std::shared_ptr<State> state, std::shared_ptr<Running> run,
                           std::chrono::milliseconds timeout);
  // Shared with the probe threads, which may outlive the cache.
  std::shared_ptr<State> state_;
};

}  // namespace gms::mounts
