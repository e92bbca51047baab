#include "record/range_plan.h"

#include <algorithm>

namespace gms::record {
namespace {

// Between one segment's last write and the next one's start the recorder
// may leave some milliseconds (and writes its last second at once when it
// stops): up to a second is no gap.
constexpr gint64 kNoGapUs = G_USEC_PER_SEC;

}  // namespace

RangePlan plan_range(std::vector<RecordedSegment> segments, gint64 start_us, gint64 duration_us,
                     gint64 max_gap_us) {
  std::stable_sort(segments.begin(), segments.end(),
                   [](const auto& a, const auto& b) { return a.start_us < b.start_us; });
  const gint64 end_us = start_us + duration_us;
  std::vector<const RecordedSegment*> hit;
  for (const auto& s : segments)
    if (s.end_us > s.start_us && s.end_us > start_us && s.start_us < end_us)
      hit.push_back(&s);
  RangePlan plan;
  if (hit.empty())
    return plan;
  // Timeline position of each file's start (µs).
  std::vector<gint64> at(hit.size(), 0);
  for (size_t i = 1; i < hit.size(); ++i) {
    gint64 gap = std::max<gint64>(0, hit[i]->start_us - hit[i - 1]->end_us);
    gint64 dropped = std::max<gint64>(0, gap - max_gap_us);
    at[i] = at[i - 1] + (hit[i]->start_us - hit[i - 1]->start_us) - dropped;
  }
  // A wall-clock time on the timeline: inside a file from its start; in a
  // gap, no further than the next file's start.
  auto position = [&](gint64 wall_us) {
    size_t i = 0;
    while (i + 1 < hit.size() && hit[i + 1]->start_us <= wall_us)
      ++i;
    gint64 t = at[i] + (wall_us - hit[i]->start_us);
    return i + 1 < hit.size() ? std::min(t, at[i + 1]) : t;
  };
  const gint64 from = position(std::max(start_us, hit.front()->start_us));
  const gint64 to = position(std::min(end_us, hit.back()->end_us));
  for (size_t i = 0; i < hit.size(); ++i) {
    plan.files.push_back(hit[i]->path);
    plan.starts_ns.push_back(guint64(at[i]) * 1000);
    plan.after_gap.push_back(i > 0 && hit[i]->start_us - hit[i - 1]->end_us > kNoGapUs);
  }
  plan.offset_ns = guint64(from) * 1000;
  plan.duration_ns = guint64(std::max<gint64>(0, to - from)) * 1000;
  plan.to_recording_end = end_us >= hit.back()->end_us;
  return plan;
}

}  // namespace gms::record
