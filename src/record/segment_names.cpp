#include "record/segment_names.h"

#include "gms/ref.h"

namespace gms::record {
namespace {

// Reads exactly `n` decimal digits at s[pos]; false otherwise.
bool digits(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!g_ascii_isdigit(s[i]))
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<gint64> segment_start_from_name(const std::string& file_name) {
  const size_t slash = file_name.rfind('/');
  const std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  // YYYY-MM-DD_HH-MM-SS-UUUUUU then '.' or '-': 26 characters and one more.
  static const char kSeparators[] = "--_---";
  static const size_t kAt[] = {4, 7, 10, 13, 16, 19};
  if (base.size() < 27 || (base[26] != '.' && base[26] != '-'))
    return std::nullopt;
  for (size_t i = 0; i < 6; ++i)
    if (base[kAt[i]] != kSeparators[i])
      return std::nullopt;
  int y, mo, d, h, mi, sec, usec;
  if (!digits(base, 0, 4, y) || !digits(base, 5, 2, mo) || !digits(base, 8, 2, d) ||
      !digits(base, 11, 2, h) || !digits(base, 14, 2, mi) || !digits(base, 17, 2, sec) ||
      !digits(base, 20, 6, usec))
    return std::nullopt;
  auto tz = UniquePtr<GTimeZone, g_time_zone_unref>(g_time_zone_new_local());
  auto dt = UniquePtr<GDateTime, g_date_time_unref>(g_date_time_new(tz.get(), y, mo, d, h, mi, sec));
  if (!dt)
    return std::nullopt;
  return g_date_time_to_unix(dt.get()) * G_USEC_PER_SEC + usec;
}

}  // namespace gms::record
