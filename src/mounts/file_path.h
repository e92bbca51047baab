// Maps the rest of a request path onto a file inside a root directory, or
// says why not. Never yields a file outside the root: `..` and `.`
// segments, empty segments (absolute paths, `//`), NUL and control bytes,
// over-long names, symlinks that lead out, and anything but a readable
// regular file are refused.
#pragma once

#include <cstdint>
#include <string>

namespace gms::mounts {

struct ResolvedFile {
  int status = 404;    // 200, 400 (malformed) or 404
  std::string path;    // the real path (no symlinks), inside the root
  std::string reason;  // for the log; never sent to the client
};

// `root_real` is the root's real path (realpath, no trailing '/').
// `relative` is the request path after the mount prefix and its '/',
// still percent-encoded as the client sent it.
// With `allow_directory`, a directory inside the root (or the root itself)
// is an answer too (for time ranges of recordings).
ResolvedFile resolve_in_root(const std::string& root_real, const std::string& relative,
                             bool allow_directory = false);

// `path`, a file named in a directory inside the root (a segment of a time
// range), checked as resolve_in_root() checks the file it finds: its real
// path when that is a readable regular file inside the root; else 404 (a
// symlink that leads out, a FIFO, a directory).
ResolvedFile confine_to_root(const std::string& root_real, const std::string& path);

// A time range of recordings from a request's query string:
// "start=2026-11-24T10:00:00Z&duration=600" (ISO 8601 start, a time zone or
// local time; duration in seconds, 0 < duration <= 86400; percent-escapes
// allowed; other keys ignored). False with `why` when it is not one.
struct TimeRange {
  int64_t start_us = 0;     // since the epoch
  int64_t duration_us = 0;
};
bool parse_time_range(const std::string& query, TimeRange& out, std::string& why);
// Does the query ask for a time range at all (has a "start=" key)?
bool is_time_range_query(const std::string& query);

// Percent-decoding of a URL path; false for a malformed escape.
bool percent_decode(const std::string& in, std::string& out);

}  // namespace gms::mounts
