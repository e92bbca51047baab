#include "gst_launch_viewer.h"

#include <algorithm>
#include <sstream>

namespace gms::test {
namespace {

// rtspsrc's debug lines for a flush of the connection under a busy request
// (gst_rtspsrc_loop_send_cmd), and for a send that failed.
constexpr char kFlushUnderPause[] = "connection flush busy PAUSE";
constexpr char kFlushUnderClose[] = "connection flush busy CLOSE";
constexpr char kSendFailed[] = "error: Could not send message. (Received end-of-file)";
// How gst-launch prints that error: the message, then its debug text.
constexpr char kPrintedError[] = "Could not write to resource.";
constexpr char kPrintedDebug[] = "Could not send message. (Received end-of-file)";

bool is_debug_line(const std::string& line) {
  // "0:00:01.234567890  1234 0x55d... LEVEL category file:line:function:<obj> text"
  return line.size() > 2 && line[0] >= '0' && line[0] <= '9' && line[1] == ':';
}

size_t earliest(const std::string& text, std::initializer_list<const char*> needles) {
  size_t at = std::string::npos;
  for (const char* n : needles)
    at = std::min(at, text.find(n));
  return at;
}

}  // namespace

std::vector<std::string> with_rtspsrc_log(const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"env", "GST_DEBUG=*:1,rtspsrc:5", "GST_DEBUG_NO_COLOR=1"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string gst_launch_messages(const RunResult& r) {
  std::istringstream in(r.err);
  std::string line, out;
  while (std::getline(in, line))
    if (!is_debug_line(line))
      out += line + "\n";
  return out;
}

bool gst_launch_succeeded(const RunResult& r) {
  if (r.exit_status == 0)
    return true;
  if (r.exit_status != 1)
    return false;
  size_t flush = earliest(r.err, {kFlushUnderPause, kFlushUnderClose});
  size_t failed = r.err.find(kSendFailed);
  if (flush == std::string::npos || failed == std::string::npos || flush > failed)
    return false;
  // Every error printed is that send, from rtspsrc.
  std::istringstream in(gst_launch_messages(r));
  std::string line;
  unsigned errors = 0, sends = 0;
  while (std::getline(in, line)) {
    if (line.rfind("ERROR:", 0) == 0) {
      if (line.find("GstRTSPSrc") == std::string::npos ||
          line.find(kPrintedError) == std::string::npos)
        return false;
      errors++;
    } else if (line == kPrintedDebug) {
      sends++;
    }
  }
  return errors > 0 && sends == errors;
}

}  // namespace gms::test
