// SegmentPolicy: file naming and retention for msrecorder.
//
// Pure C++: no file system access, no clock. The element passes in the wall
// clock and what it knows about its segments, and carries out the answer
// (creates directories, deletes files) off the streaming thread.
#pragma once

#include <glib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gms {

struct SegmentFile {
  std::string path;
  gint64 start_us = 0;  // wall clock when the segment was opened (g_get_real_time())
  guint64 bytes = 0;
  bool open = false;  // still being written: never deleted
  gint64 end_us = 0;  // wall clock when it was closed; 0: not known (its start counts)
};

struct RetentionSettings {
  guint64 delete_after_s = 0;  // delete segments that ended longer ago; 0 = never
  guint64 max_bytes = 0;       // keep the total at most this; 0 = unlimited
};

class SegmentPolicy {
 public:
  // File name for a segment opened at `wall_us` (microseconds since the
  // epoch). In `pattern`, "%path" is replaced by `path_name` (taken
  // literally), then the strftime-style fields of g_date_time_format() are
  // filled from the local time (%Y %m %d %H %M %S, %f = microseconds, %% = %).
  // Returns "" if the pattern is invalid.
  static std::string format_location(const std::string& pattern, const std::string& path_name,
                                     gint64 wall_us);

  // The inverse of the default pattern: the wall clock (microseconds since
  // the epoch) a segment named "2024-03-05_07-08-09-012345.mp4" (local
  // time; "-N" before the extension for a name taken twice) started at;
  // nullopt for any other name.
  static std::optional<gint64> start_from_name(const std::string& file_name);

  // Does the pattern need the path-name property?
  static bool uses_path(const std::string& pattern) { return pattern.find("%path") != std::string::npos; }

  // Which closed segments to delete now, oldest first: every one that ended
  // (or, when its end is not known, started) more than delete_after_s
  // before `now_us` (a segment that just closed holds footage of the last
  // seconds, however long ago it started), then the oldest ones until the
  // total of all segments (open ones included) is at most max_bytes. The open
  // segment is never chosen, even if it alone exceeds max_bytes.
  static std::vector<std::string> to_delete(std::vector<SegmentFile> files, gint64 now_us,
                                            const RetentionSettings& settings);
};

}  // namespace gms
