// Which recorded segments play for a wall-clock time range, and where on
// one timeline (rtsp://host/recordings/PATH?start=…&duration=…).
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace gms::record {

// A segment on disk.
struct RecordedSegment {
  std::string path;
  gint64 start_us = 0;  // wall clock, from its name
  gint64 end_us = 0;    // wall clock: the next segment's start, or its last write
};

// The segments that overlap the range, in order, on one timeline whose 0 is
// the first one's start. Each file starts at `starts_ns` (its wall-clock
// start, less what earlier gaps have beyond the cap), the range at
// `offset_ns`, and it lasts `duration_ns` (up to the end of the recording).
struct RangePlan {
  std::vector<std::string> files;
  std::vector<guint64> starts_ns;
  std::vector<char> after_gap;  // per file: the recording stopped (over 1 s) before it
  guint64 offset_ns = 0;
  guint64 duration_ns = 0;
  bool to_recording_end = false;  // the range ends after the recording
};

// A gap longer than `max_gap_us` between two segments is cut to it.
RangePlan plan_range(std::vector<RecordedSegment> segments, gint64 start_us, gint64 duration_us,
                     gint64 max_gap_us);

}  // namespace gms::record
