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
    const gint64 last_us = f.end_us ? f.end_us : f.start_us;
    const bool too_old = settings.delete_after_s > 0 && now_us - last_us > max_age_us;
    const bool too_big = settings.max_bytes > 0 && total > settings.max_bytes;
    if (too_old || too_big) {
      victims.push_back(f.path);
      total -= f.bytes;
    }
  }
  return victims;
}

}  // namespace gms
