// A recording's time range, as a client asks for it
// (rtsp://host/recordings/PATH?start=…&duration=…), planned over the segment
// files found on disk. The first line is the query; each further line names a
// segment file and how long after its start it was last written (µs), which
// is what the server reads from the directory. The plan must stay on one
// timeline whatever the names and the query say.
#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "mounts/file_path.h"
#include "record/range_plan.h"
#include "record/segment_names.h"

namespace {

constexpr gint64 kDayUs = 86400LL * G_USEC_PER_SEC;

void check(const gms::record::RangePlan& p, gint64 duration_us) {
  size_t n = p.files.size();
  if (p.starts_ns.size() != n || p.after_gap.size() != n)
    abort();
  if (n == 0)
    return;
  if (p.starts_ns[0] != 0)
    abort();  // the timeline starts with the first file
  for (size_t i = 1; i < n; ++i)
    if (p.starts_ns[i] < p.starts_ns[i - 1])
      abort();  // files out of order on the timeline
  if (p.duration_ns > guint64(duration_us) * 1000)
    abort();  // longer than asked
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::istringstream lines(in);
  std::string query;
  std::getline(lines, query);
  gms::mounts::TimeRange range;
  std::string why;
  bool asked = gms::mounts::parse_time_range(query, range, why);
  if (asked && (range.duration_us <= 0 || range.duration_us > kDayUs))
    abort();
  std::vector<gms::record::RecordedSegment> segments;
  std::string line;
  while (std::getline(lines, line) && segments.size() < 64) {
    auto space = line.rfind(' ');
    std::string name = line.substr(0, space);
    auto start = gms::record::segment_start_from_name(name);
    if (!start)
      continue;
    // The last write: at most a day after the start (a segment's length is
    // bounded by its segment-duration), possibly before it (a clock step).
    gint64 len = space == std::string::npos ? 0 : g_ascii_strtoll(line.c_str() + space + 1, nullptr, 10);
    len %= kDayUs;
    segments.push_back({name, *start, *start + len});
  }
  if (!asked) {
    // The planner is also tried on ranges around the segments themselves.
    if (segments.empty())
      return 0;
    range.start_us = segments[0].start_us - G_USEC_PER_SEC;
    range.duration_us = 10 * G_USEC_PER_SEC;
  }
  for (gint64 max_gap : {gint64(0), gint64(G_USEC_PER_SEC), gint64(3600) * G_USEC_PER_SEC})
    check(gms::record::plan_range(segments, range.start_us, range.duration_us, max_gap),
          range.duration_us);
  return 0;
}
