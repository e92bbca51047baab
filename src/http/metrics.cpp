// /metrics in the Prometheus text format (0.0.4): only figures the server
// really has. Label values are escaped as the format asks (\\, \", \n).
#include <sstream>

#include "auth/rtsp_auth.h"
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

}  // namespace

std::string metrics_text(const Counters& c, const std::vector<RecordingEntry>& recordings) {
  std::ostringstream o;
  header(o, "gms_paths", "gauge", "Configured paths.");
  o << "gms_paths " << c.paths << '\n';
  header(o, "gms_sessions", "gauge", "Open RTSP sessions.");
  o << "gms_sessions " << c.sessions << '\n';
  header(o, "gms_publishers", "gauge", "Clients publishing (RECORD) now.");
  o << "gms_publishers " << c.publishers << '\n';
  header(o, "gms_recording", "gauge", "1 while the path is being recorded, else 0.");
  for (const auto& r : recordings)
    o << "gms_recording{path=\"" << label(r.path) << "\"} "
      << (r.status.state == record::RecordingStatus::State::kRecording ? 1 : 0) << '\n';
  header(o, "gms_recording_errors_total", "counter",
         "Recording failures (write errors such as a full disk) since the server started.");
  for (const auto& r : recordings)
    o << "gms_recording_errors_total{path=\"" << label(r.path) << "\"} " << r.status.errors << '\n';
  header(o, "gms_auth_failures_total", "counter",
         "Requests with wrong credentials (RTSP and HTTP API) since the server started.");
  o << "gms_auth_failures_total " << auth::failure_count() << '\n';
  return o.str();
}

}  // namespace gms::http
