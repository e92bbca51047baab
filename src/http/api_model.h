// What the HTTP API reports: plain values the server fills in on its control
// context, and the pure functions that turn them into JSON and Prometheus
// text (no GStreamer, no sockets: unit-tested on their own).
#pragma once

#include <glib.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <gst-mediaserver/status.h>

namespace gms::http {

// The server's public snapshots (gst-mediaserver/status.h): the API reads
// nothing else.
using ::gms::PathFigures;
using PathEntry = ::gms::PathInfo;
using RecordingEntry = ::gms::RecordingInfo;
using Counters = ::gms::ServerFigures;
using SessionList = std::vector<::gms::SessionInfo>;

// "2026-11-27T07:01:02.123456Z"
std::string iso8601_utc(gint64 wall_us);

std::string paths_json(const std::vector<PathEntry>& paths);
std::string path_json(const PathEntry& path);
std::string sessions_json(const SessionList& sessions);
// {"error": {"key": …, "reason": …}}: a configuration problem of a path.
std::string key_error_json(const std::string& key, const std::string& reason);
std::string recordings_json(const std::vector<RecordingEntry>& recordings);
// {"path": …, "state": …} after POST …/start or …/stop.
std::string recording_state_json(const std::string& path, const RecordingStatus& status);
std::string error_json(const std::string& message);
// GET /api/v1/server: {"rtsp_port": …, "version": …}.
std::string server_json(uint16_t rtsp_port);
// Prometheus text exposition format 0.0.4.
// `paths` as for paths_json (a pattern's publishers are their own paths here).
std::string metrics_text(const Counters& counters, const std::vector<RecordingEntry>& recordings,
                         const std::vector<PathEntry>& paths = {});

}  // namespace gms::http
