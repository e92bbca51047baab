// gst-mediaserver: what a running server reports about its paths, sessions
// and recordings. Plain values, copied out on the server's context: a
// snapshot may be kept and read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gms {

// One RTSP session's traffic. A figure the server cannot tell honestly is
// nullopt (a multicast group's packets are shared by its viewers).
struct SessionFigures {
  // Viewers: what the server sent (RTP); publishers: what it received.
  std::optional<uint64_t> bytes_sent, packets_sent;
  std::optional<uint64_t> bytes_received, packets_received;
  // From the client's RTCP receiver reports (viewers): the highest fraction
  // lost of its tracks (0…1) and the sum of their cumulative losses.
  std::optional<double> fraction_lost;
  std::optional<int64_t> cumulative_lost;
};

struct SessionInfo {
  std::string id;         // the RTSP session id
  std::string path;       // the served path ("/live/cam1"); empty before SETUP
  std::string remote;     // "127.0.0.1:40312"
  std::optional<std::string> user;  // null until users exist
  std::string transport;  // udp, udp-multicast, tcp, http-tunnel ("" before SETUP)
  std::string role;       // viewer, publisher ("" before PLAY or RECORD)
  int64_t started_us = 0;  // wall clock (g_get_real_time), when the session was made
  SessionFigures figures;
};

// What a path's recording did (kept after the recorder stops).
struct RecordingStatus {
  enum class State { kStopped, kRecording, kError };
  State state = State::kStopped;
  std::string last_error;       // kept after recording resumes
  int64_t last_error_us = 0;    // wall clock of last_error; 0: none yet
  uint64_t errors = 0;          // failures so far (a counter: never goes down)
  std::string current_segment;  // the file being written, when known
  uint64_t segments = 0;        // segments closed (a counter)
  uint64_t bytes_written = 0;   // their sizes when they closed (a counter)
  uint64_t dropped_buffers = 0;  // frames not recorded: the disk was too slow (a counter)
  // What the publisher (or back end) sent that the recorder dropped before
  // its depayloader (counters): frames cut at the 8 MB access-unit cap, and
  // packets the depayloader would refuse (H.264 MTAP, H.265 PACI…).
  uint64_t oversized_frames = 0;
  uint64_t refused_packets = 0;
};
// "stopped", "recording", "error".
const char* state_name(RecordingStatus::State s);

// One file of a recording directory.
struct RecordedSegment {
  std::string name;      // file name, "2026-11-27_07-01-02-123456.mp4"
  std::string path;      // directory/name
  int64_t start_us = 0;  // wall clock, from the name
  int64_t mtime_us = 0;  // last write
  uint64_t bytes = 0;
};

// What flows through a path.
struct PathFigures {
  unsigned readers_udp = 0, readers_multicast = 0, readers_tcp = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  double bitrate_bps = 0;
  // Access units, and those that start a key frame (IDR, IRAP, JPEG…).
  uint64_t frames = 0, key_frames = 0, gaps = 0, lost = 0;
  uint64_t reconnects = 0;
  int64_t last_activity_us = 0;  // wall clock; 0: nothing yet
  unsigned readers() const { return readers_udp + readers_multicast + readers_tcp; }
};

// One path. Optional fields are empty when the server cannot tell honestly
// (a launch line that runs per viewer has no "live" source to speak of; a
// root's viewers are spread over its files).
struct PathInfo {
  std::string name;
  std::string kind;                       // launch, files, proxy, publish
  std::optional<bool> live;               // the source delivers now
  std::optional<unsigned> viewers;        // PLAY sessions of this path
  std::optional<std::string> recording;   // recording, error, stopped (paths that record)
  // A pattern ("/live/*"): its paths being published, or for a pattern
  // proxy the paths it made.
  std::vector<PathInfo> publishers;
  std::optional<std::string> state;       // idle, starting, ready, retrying, stopping (live paths)
  std::optional<unsigned> publisher_count;  // exact publish paths: clients sending now
  bool measured = false;  // `figures` apply (every exact path; not a pattern)
  PathFigures figures;
  // Server::path() only: the path's sessions.
  std::optional<std::vector<SessionInfo>> readers;
};

// One path that records or did.
struct RecordingInfo {
  std::string path;
  std::string directory;
  RecordingStatus status;
  std::vector<RecordedSegment> segments;  // empty unless read with recorded_segments()
};

// Server-wide figures.
struct ServerFigures {
  size_t paths = 0;
  unsigned sessions = 0;
  unsigned publishers = 0;
  unsigned connections = 0;  // open RTSP connections
  unsigned pipelines = 0;    // viewers' pipelines prepared now (max-pipelines)
  uint64_t pipeline_refusals = 0;  // DESCRIBE/SETUP refused at max-pipelines
  uint64_t auth_failures = 0;
  // Connections refused before the RTSP server saw them, by reason.
  std::vector<std::pair<std::string, uint64_t>> refused;
};

// The answer to a path change: status 200 (changed), 201 (added); else 400
// (invalid: `key` names the configuration key at fault, "" for the whole
// request), 404 (no such path), 409 (conflict) or 500, with `reason`.
struct PathResult {
  unsigned status = 200;
  std::string key;
  std::string reason;
  std::string name;  // the path the change was about
  bool ok() const { return status < 300; }
};

// The answer to a recording start or stop: status 200, or 404 / 409 with
// `error`.
struct RecordingResult {
  unsigned status = 200;
  std::string error;
  RecordingStatus state;
  bool ok() const { return status < 300; }
};

// The segments of a recording directory (RecordingInfo::directory), oldest
// first. Reads the file system: call it away from the server's context
// when the directory may be large. Empty when it does not exist.
std::vector<RecordedSegment> recorded_segments(const std::string& directory);

}  // namespace gms
