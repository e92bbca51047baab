// /metrics in the Prometheus text format (0.0.4): only figures the server
// really has. Every family has its HELP and TYPE lines, counters end in
// _total, sizes are in bytes; label values are escaped as the format asks
// (\\, \", \n).
#include <sstream>

#include "http/api_model.h"

namespace gms::http {
namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// Exact paths with figures: a pattern stands for its publishers' paths.
std::vector<const PathEntry*> measured(const std::vector<PathEntry>& paths) {
  std::vector<const PathEntry*> out;
  for (const auto& p : paths) {
    if (p.measured)
      out.push_back(&p);
    for (const auto& sub : p.publishers)
      if (sub.measured)
        out.push_back(&sub);
  }
  return out;
}

template <typename F>
void per_path(std::ostringstream& o, const std::vector<const PathEntry*>& paths, const char* name,
              const char* type, const char* help, F value) {
  header(o, name, type, help);
  for (const PathEntry* p : paths)
    o << name << "{path=\"" << label(p->name) << "\"} " << value(*p) << '\n';
}

template <typename F>
void per_recording(std::ostringstream& o, const std::vector<RecordingEntry>& recordings,
                   const char* name, const char* type, const char* help, F value) {
  header(o, name, type, help);
  for (const auto& r : recordings)
    o << name << "{path=\"" << label(r.path) << "\"} " << value(r.status) << '\n';
}

void path_metrics(std::ostringstream& o, const std::vector<PathEntry>& all) {
  const auto paths = measured(all);
  header(o, "gms_path_readers", "gauge", "Clients playing the path now, by transport.");
  for (const PathEntry* p : paths) {
    const std::string l = "gms_path_readers{path=\"" + label(p->name) + "\",transport=\"";
    o << l << "udp\"} " << p->figures.readers_udp << '\n';
    o << l << "udp-multicast\"} " << p->figures.readers_multicast << '\n';
    o << l << "tcp\"} " << p->figures.readers_tcp << '\n';
  }
  per_path(o, paths, "gms_path_up", "gauge", "1 while the path's source delivers, else 0.",
           [](const PathEntry& p) { return p.state && *p.state == "ready" ? 1 : 0; });
  per_path(o, paths, "gms_path_publishers", "gauge", "Clients publishing (RECORD) to the path now.",
           [](const PathEntry& p) { return p.publisher_count.value_or(0); });
  per_path(o, paths, "gms_path_received_bytes_total", "counter",
           "RTP bytes the path's source delivered.",
           [](const PathEntry& p) { return p.figures.bytes_in; });
  per_path(o, paths, "gms_path_sent_bytes_total", "counter",
           "RTP bytes sent to the path's readers, summed over readers.",
           [](const PathEntry& p) { return p.figures.bytes_out; });
  per_path(o, paths, "gms_path_bitrate_bits_per_second", "gauge",
           "Bit rate the source delivers, over the last second.",
           [](const PathEntry& p) { return p.figures.bitrate_bps; });
  per_path(o, paths, "gms_path_frames_total", "counter", "Frames (RTP packets with the marker bit).",
           [](const PathEntry& p) { return p.figures.frames; });
  per_path(o, paths, "gms_path_key_frames_total", "counter",
           "Packets not flagged as depending on an earlier frame.",
           [](const PathEntry& p) { return p.figures.key_frames; });
  per_path(o, paths, "gms_path_gaps_total", "counter",
           "Discontinuities: timestamp holes and holes in the RTP sequence numbers.",
           [](const PathEntry& p) { return p.figures.gaps; });
  per_path(o, paths, "gms_path_lost_packets_total", "counter",
           "RTP packets missing by sequence number.",
           [](const PathEntry& p) { return p.figures.lost; });
  per_path(o, paths, "gms_path_reconnects_total", "counter",
           "Times the back end delivered again after it was lost (proxied paths).",
           [](const PathEntry& p) { return p.figures.reconnects; });
  per_path(o, paths, "gms_path_last_activity_seconds", "gauge",
           "Unix time of the source's last packet; 0 when none yet.",
           [](const PathEntry& p) { return double(p.figures.last_activity_us) / 1e6; });
}

}  // namespace

std::string metrics_text(const Counters& c, const std::vector<RecordingEntry>& recordings,
                         const std::vector<PathEntry>& paths) {
  std::ostringstream o;
  o.precision(15);
  header(o, "gms_paths", "gauge", "Configured paths.");
  o << "gms_paths " << c.paths << '\n';
  header(o, "gms_connections", "gauge", "Open RTSP connections.");
  o << "gms_connections " << c.connections << '\n';
  header(o, "gms_sessions", "gauge", "Open RTSP sessions.");
  o << "gms_sessions " << c.sessions << '\n';
  header(o, "gms_pipelines", "gauge", "Viewers' pipelines prepared now (max-pipelines caps them).");
  o << "gms_pipelines " << c.pipelines << '\n';
  header(o, "gms_pipeline_refusals_total", "counter",
         "DESCRIBE and SETUP requests refused (503) at max-pipelines since the server started.");
  o << "gms_pipeline_refusals_total " << c.pipeline_refusals << '\n';
  header(o, "gms_publishers", "gauge", "Clients publishing (RECORD) now.");
  o << "gms_publishers " << c.publishers << '\n';
  header(o, "gms_auth_failures_total", "counter",
         "Requests with wrong credentials (RTSP and HTTP API) since the server started.");
  o << "gms_auth_failures_total " << c.auth_failures << '\n';
  header(o, "gms_refused_requests_total", "counter",
         "Connections refused at their first request (before the RTSP server saw them), by reason.");
  for (const auto& [reason, n] : c.refused)
    o << "gms_refused_requests_total{reason=\"" << label(reason) << "\"} " << n << '\n';
  path_metrics(o, paths);
  per_recording(o, recordings, "gms_recording", "gauge", "1 while the path is being recorded, else 0.",
                [](const RecordingStatus& s) { return s.state == RecordingStatus::State::kRecording ? 1 : 0; });
  per_recording(o, recordings, "gms_recording_errors_total", "counter",
                "Recording failures (write errors such as a full disk) since the server started.",
                [](const RecordingStatus& s) { return s.errors; });
  per_recording(o, recordings, "gms_recording_written_bytes_total", "counter",
                "Bytes of the segment files the recorder closed, at their closing.",
                [](const RecordingStatus& s) { return s.bytes_written; });
  per_recording(o, recordings, "gms_recording_dropped_buffers_total", "counter",
                "Buffers (frames) the recorder dropped because the disk took them too slowly.",
                [](const RecordingStatus& s) { return s.dropped_buffers; });
  per_recording(o, recordings, "gms_recording_oversized_frames_total", "counter",
                "Frames the recorder cut at its access-unit size cap (the source sent a frame "
                "that did not end).",
                [](const RecordingStatus& s) { return s.oversized_frames; });
  per_recording(o, recordings, "gms_recording_refused_packets_total", "counter",
                "RTP packets dropped before the recorder's depayloader, which would refuse them.",
                [](const RecordingStatus& s) { return s.refused_packets; });
  per_recording(o, recordings, "gms_recording_segments_total", "counter",
                "Segment files the recorder closed.",
                [](const RecordingStatus& s) { return s.segments; });
  return o.str();
}

}  // namespace gms::http
