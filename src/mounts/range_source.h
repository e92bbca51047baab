// The source of a media that plays recorded segments as one stream: a time
// range of a path's recordings, or one recorded segment file.
//
// One `filesrc ! parsebin` per segment, each track through a `concat` per
// track type, into the media's multiqueue sink pads. Timestamps are put on
// the range's timeline: a segment after a gap starts where its name says
// (RangeSpec::starts), so gaps stay gaps; one that follows another directly
// starts where that one's media ended. The stream starts at the key frame
// at or before the asked position by dropping what comes before it. No demuxer
// seek: the random-access index (`mfra`) mp4mux 1.22 writes into a later
// segment has the recording's running times, not the file's, and a segment
// cut by kill -9 has none.
//
// A seek (PLAY with Range) is answered by building the sources again from
// the segment that holds the new position; the flush around it is the
// demuxer's usual one, so gst-rtsp-server prerolls as after any seek.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::mounts {

struct RangeSpec {
  std::string mount_path;               // for logs
  std::vector<std::string> files;       // in order
  std::vector<guint64> starts;          // ns: each file's start on the timeline
  std::vector<char> after_gap;          // per file: a gap in the recording before it
  guint64 offset = 0;                   // ns: npt 0 on the timeline
  guint64 duration = 0;                 // ns: npt of the end (announced)
  bool cut_at_end = true;               // EOS at `duration`; else at the last file's end
};

// Adds the sources to `bin`: a concat per entry of `types` (media type
// names, "video/x-h264"…), linked to `sinks` (same order). False when an
// element is missing. The state lives with the bin.
bool add_range_source(GstBin* bin, const RangeSpec& spec, const std::vector<std::string>& types,
                      const std::vector<Ref<GstPad>>& sinks);

}  // namespace gms::mounts
