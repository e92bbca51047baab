#include "mounts/file_path.h"

#include <glib.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "gms/ref.h"

namespace gms::mounts {
namespace {

constexpr size_t kMaxRelative = 1024;  // bytes, decoded
constexpr size_t kMaxSegment = 255;    // NAME_MAX on Linux file systems

ResolvedFile refuse(int status, std::string reason) {
  ResolvedFile r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

// `path` resolved (links followed): a readable regular file (or, with
// `allow_directory`, a directory) inside the root, or why not.
ResolvedFile confine(const std::string& root_real, const std::string& path, bool allow_directory) {
  UniquePtr<char, free> real(realpath(path.c_str(), nullptr));
  if (!real)
    return refuse(404, "no such file");
  std::string r = real.get();
  if (r.size() <= root_real.size() + 1 || r.compare(0, root_real.size(), root_real) != 0 ||
      r[root_real.size()] != '/')
    return refuse(404, "leads outside the root (symlink)");
  struct stat st {};
  if (stat(r.c_str(), &st) != 0)
    return refuse(404, "no such file");
  if (!S_ISREG(st.st_mode) && !(allow_directory && S_ISDIR(st.st_mode)))
    return refuse(404, S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
  if (access(r.c_str(), R_OK) != 0)
    return refuse(404, "not readable");
  ResolvedFile ok;
  ok.status = 200;
  ok.path = std::move(r);
  return ok;
}

}  // namespace

bool percent_decode(const std::string& in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || !g_ascii_isxdigit(in[i + 1]) || !g_ascii_isxdigit(in[i + 2]))
      return false;
    out += char(g_ascii_xdigit_value(in[i + 1]) * 16 + g_ascii_xdigit_value(in[i + 2]));
    i += 2;
  }
  return true;
}

ResolvedFile resolve_in_root(const std::string& root_real, const std::string& relative,
                             bool allow_directory) {
  std::string rel;
  if (!percent_decode(relative, rel))
    return refuse(400, "malformed percent escape");
  for (unsigned char c : rel)
    if (c < 0x20 || c == 0x7f)
      return refuse(400, "NUL or control byte in the path");
  if (rel.empty() && allow_directory) {
    ResolvedFile ok;
    ok.status = 200;
    ok.path = root_real.empty() ? "/" : root_real;
    return ok;
  }
  if (rel.empty())
    return refuse(404, "a directory, not a file");
  if (rel.size() > kMaxRelative)
    return refuse(404, "path too long");
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    std::string seg = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty())
      return refuse(404, "empty segment (absolute path, '//' or a directory)");
    if (seg == "." || seg == "..")
      return refuse(404, "'.' or '..' segment");
    if (seg.size() > kMaxSegment)
      return refuse(404, "name too long");
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return confine(root_real, root_real + "/" + rel, allow_directory);
}

ResolvedFile confine_to_root(const std::string& root_real, const std::string& path) {
  return confine(root_real, path, false);
}

namespace {
constexpr int64_t kMaxRangeSeconds = 86400;

// The value of `key` in "a=1&b=2", percent-decoded; false when absent.
bool query_value(const std::string& query, const std::string& key, std::string& out, bool& bad) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string item = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = item.find('=');
    if (item.substr(0, eq) == key) {
      bad = eq == std::string::npos || !percent_decode(item.substr(eq + 1), out);
      return true;
    }
    if (amp == std::string::npos)
      break;
    pos = amp + 1;
  }
  return false;
}
}  // namespace

bool is_time_range_query(const std::string& query) {
  std::string v;
  bool bad = false;
  return query_value(query, "start", v, bad);
}

bool parse_time_range(const std::string& query, TimeRange& out, std::string& why) {
  std::string start, duration;
  bool bad = false;
  if (!query_value(query, "start", start, bad) || bad) {
    why = "no start= (an ISO 8601 time such as 2026-11-24T10:00:00Z)";
    return false;
  }
  // Without a zone, the server's local time: the time segments are named in.
  auto local = UniquePtr<GTimeZone, g_time_zone_unref>(g_time_zone_new_local());
  GDateTime* dt =
      start.size() < 64 ? g_date_time_new_from_iso8601(start.c_str(), local.get()) : nullptr;
  if (!dt) {
    why = "start=" + start.substr(0, 64) + " is not an ISO 8601 time (2026-11-24T10:00:00Z)";
    return false;
  }
  out.start_us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
  g_date_time_unref(dt);
  if (!query_value(query, "duration", duration, bad) || bad) {
    why = "no duration= (seconds)";
    return false;
  }
  char* end = nullptr;
  double d = g_ascii_strtod(duration.c_str(), &end);
  if (duration.empty() || !end || *end != '\0' || !(d > 0) || d > double(kMaxRangeSeconds)) {
    why = "duration=" + duration.substr(0, 32) + " is not a number of seconds in (0, " +
          std::to_string(kMaxRangeSeconds) + "]";
    return false;
  }
  out.duration_us = int64_t(d * G_USEC_PER_SEC);
  return true;
}

}  // namespace gms::mounts
