// The segments of one path's recording directory, as the recorder named
// them (SegmentPolicy's "%Y-%m-%d_%H-%M-%S-%f" names): for playback of time
// ranges and for the HTTP API's list of recordings. Reads the file system:
// call it off the control context when the directory can be large.
#pragma once

#include <glib.h>
#include <gst-mediaserver/status.h>

#include <string>
#include <vector>

namespace gms::record {

using SegmentOnDisk = ::gms::RecordedSegment;

// Regular, non-empty files of `dir` whose names carry a segment start,
// oldest first. Other files (a filler, notes) are left out. Empty when the
// directory does not exist.
std::vector<SegmentOnDisk> list_segments(const std::string& dir);

}  // namespace gms::record
