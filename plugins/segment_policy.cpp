#include "segment_policy.h"

#include <algorithm>
#include <cstdio>

namespace gms {

std::string SegmentPolicy::format_location(const std::string& pattern, const std::string& path_name,
                                           gint64 wall_us) {
  // %path first, with any '%' in the path escaped so the time formatting
  // below leaves it alone.
  std::string escaped_path;
  for (char c : path_name) {
    escaped_path += c;
    if (c == '%')
      escaped_path += '%';
  }
  std::string expanded;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 5, "%path") == 0) {
      expanded += escaped_path;
      i += 5;
    } else if (pattern[i] == '%' && i + 1 < pattern.size()) {
      expanded.append(pattern, i, 2);  // keep "%%" and "%X" pairs together
      i += 2;
    } else {
      expanded += pattern[i++];
    }
  }

  GDateTime* utc = g_date_time_new_from_unix_utc(wall_us / G_USEC_PER_SEC);
  if (!utc)
    return {};
  GDateTime* full = g_date_time_add(utc, wall_us % G_USEC_PER_SEC);
  g_date_time_unref(utc);
  GDateTime* local = full ? g_date_time_to_local(full) : nullptr;
  if (full)
    g_date_time_unref(full);
  if (!local)
    return {};
  gchar* out = g_date_time_format(local, expanded.c_str());
  g_date_time_unref(local);
  if (!out)
    return {};
  std::string result(out);
  g_free(out);
  return result;
}

std::optional<gint64> SegmentPolicy::start_from_name(const std::string& file_name) {
  const auto slash = file_name.rfind('/');
  const std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  char usec[7] = {};
  // "%Y-%m-%d_%H-%M-%S-%f": exactly six digits of microseconds.
  if (sscanf(base.c_str(), "%4d-%2d-%2d_%2d-%2d-%2d-%6[0-9]%n", &y, &mo, &d, &h, &mi, &sec, usec,
             &n) != 7 ||
      n != 26 || (base[n] != '.' && base[n] != '-'))
    return std::nullopt;
  GTimeZone* tz = g_time_zone_new_local();
  GDateTime* dt = g_date_time_new(tz, y, mo, d, h, mi, sec);
  g_time_zone_unref(tz);
  if (!dt)
    return std::nullopt;
  const gint64 us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_ascii_strtoll(usec, nullptr, 10);
  g_date_time_unref(dt);
  return us;
}

// Less than this between a segment's last write and the next one's start is
// no gap: a segment's last write can come some milliseconds before the next
// one opens, and the recorder writes its last second at once when it stops.
constexpr gint64 kMinGapUs = G_USEC_PER_SEC;

RangePlan SegmentPolicy::plan_range(std::vector<RecordedSegment> segments, gint64 start_us,
                                    gint64 duration_us, gint64 max_gap_us) {
  std::stable_sort(segments.begin(), segments.end(),
                   [](const RecordedSegment& a, const RecordedSegment& b) { return a.start_us < b.start_us; });
  RangePlan plan;
  const gint64 end_us = start_us + duration_us;
  std::vector<const RecordedSegment*> used;
  for (const auto& s : segments) {
    if (s.end_us <= start_us || s.start_us >= end_us || s.end_us <= s.start_us)
      continue;
    used.push_back(&s);
  }
  if (used.empty())
    return plan;
  // Each file's start on the timeline: gaps count up to max_gap_us.
  std::vector<gint64> starts{0};
  for (size_t i = 1; i < used.size(); ++i) {
    const gint64 gap = std::max<gint64>(0, used[i]->start_us - used[i - 1]->end_us);
    const gint64 cut = gap > max_gap_us ? gap - max_gap_us : 0;
    starts.push_back(starts.back() + (used[i]->start_us - used[i - 1]->start_us) - cut);
  }
  // A wall-clock time (at or after the first start) on the timeline: in a
  // file from its start, in a gap at most up to the next file's start.
  auto on_timeline = [&](gint64 wall_us) {
    size_t j = 0;
    while (j + 1 < used.size() && used[j + 1]->start_us <= wall_us)
      ++j;
    gint64 t = starts[j] + (wall_us - used[j]->start_us);
    return j + 1 < used.size() ? std::min(t, starts[j + 1]) : t;
  };
  const gint64 from = on_timeline(std::max(start_us, used.front()->start_us));
  const gint64 to = on_timeline(std::min(end_us, used.back()->end_us));
  plan.to_recording_end = end_us >= used.back()->end_us;
  for (size_t i = 0; i < used.size(); ++i) {
    plan.files.push_back(used[i]->path);
    plan.starts_ns.push_back(guint64(starts[i]) * 1000);
    plan.after_gap.push_back(i > 0 && used[i]->start_us - used[i - 1]->end_us > kMinGapUs);
  }
  plan.offset_ns = guint64(from) * 1000;
  plan.duration_ns = guint64(std::max<gint64>(0, to - from)) * 1000;
  return plan;
}

std::vector<std::string> SegmentPolicy::to_delete(std::vector<SegmentFile> files, gint64 now_us,
                                                  const RetentionSettings& settings) {
  std::stable_sort(files.begin(), files.end(),
                   [](const SegmentFile& a, const SegmentFile& b) { return a.start_us < b.start_us; });
  guint64 total = 0;
  for (const auto& f : files)
    total += f.bytes;

  std::vector<std::string> victims;
  const gint64 max_age_us = gint64(std::min<guint64>(settings.delete_after_s, G_MAXINT64 / G_USEC_PER_SEC)) *
                            G_USEC_PER_SEC;
  for (const auto& f : files) {
    if (f.open)
      continue;
    const bool too_old = settings.delete_after_s > 0 && now_us - f.start_us > max_age_us;
    const bool too_big = settings.max_bytes > 0 && total > settings.max_bytes;
    if (too_old || too_big) {
      victims.push_back(f.path);
      total -= f.bytes;
    }
  }
  return victims;
}

}  // namespace gms
