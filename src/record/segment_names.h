// The names msrecorder gives its segment files, as the server reads them.
//
// The format is the interface between the recorder element and the server
// (listing, time-range playback): "<local time>.<ext>", the local time as
// "%Y-%m-%d_%H-%M-%S-<6 digits of microseconds>", the wall clock when the
// segment's first frame was live, e.g. "2026-12-06_17-01-02-345678.mp4".
// A suffix may follow the microseconds after '-' (a second file of the same
// microsecond). The server only parses names; it never makes them.
#pragma once

#include <glib.h>

#include <optional>
#include <string>

namespace gms::record {

// The wall clock (µs since the epoch) in a segment's file name (a path is
// fine: only its last component counts); nullopt for any other name.
std::optional<gint64> segment_start_from_name(const std::string& file_name);

}  // namespace gms::record
