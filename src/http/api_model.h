// What the HTTP API reports: plain values the server fills in on its control
// context, and the pure functions that turn them into JSON and Prometheus
// text (no GStreamer, no sockets: unit-tested on their own).
#pragma once

#include <glib.h>

#include <optional>
#include <string>
#include <vector>

#include "record/path_recorder.h"
#include "record/segment_listing.h"
#include "session/session_info.h"

namespace gms::http {

// One configured path for GET /api/v1/paths. Optional fields are left out
// of the JSON when the server cannot tell honestly (a launch line that runs
// per viewer has no "live" source to speak of; a root's viewers are spread
// over its files).
struct PathEntry {
  std::string name;
  std::string kind;                       // launch, files, proxy, publish
  std::optional<bool> live;               // the source delivers now
  std::optional<unsigned> viewers;        // PLAY sessions of this path
  std::optional<std::string> recording;   // recording, error, stopped (paths that record)
  std::vector<PathEntry> publishers;      // a pattern ("/live/*"): its paths being published
  // GET /api/v1/paths/NAME only: the path's sessions.
  std::optional<std::vector<session::Info>> readers;
};

// One recorded path for GET /api/v1/recordings and /metrics.
struct RecordingEntry {
  std::string path;
  std::string directory;
  record::RecordingStatus status;
  std::vector<record::SegmentOnDisk> segments;  // filled in off the control context
};

// Server-wide figures for /metrics.
struct Counters {
  size_t paths = 0;
  unsigned sessions = 0;
  unsigned publishers = 0;
};

// "2026-11-27T07:01:02.123456Z"
std::string iso8601_utc(gint64 wall_us);

std::string paths_json(const std::vector<PathEntry>& paths);
std::string path_json(const PathEntry& path);
std::string sessions_json(const std::vector<session::Info>& sessions);
// {"error": {"key": …, "reason": …}}: a configuration problem of a path.
std::string key_error_json(const std::string& key, const std::string& reason);
std::string recordings_json(const std::vector<RecordingEntry>& recordings);
// {"path": …, "state": …} after POST …/start or …/stop.
std::string recording_state_json(const std::string& path, const record::RecordingStatus& status);
std::string error_json(const std::string& message);
// GET /api/v1/server: {"rtsp_port": …, "version": …}.
std::string server_json(uint16_t rtsp_port);
// Prometheus text exposition format 0.0.4.
std::string metrics_text(const Counters& counters, const std::vector<RecordingEntry>& recordings);

}  // namespace gms::http
