// Whether a recorded segment holds any media yet.
//
// Why: the recorder opens a segment by writing its header, and its first
// media a moment later (about a quarter of a second for fragmented MP4: the
// first fragment). A time range that reaches the present can find the newest
// segment in between; its demuxer then finds no playable stream, and the
// whole range failed (503). A segment opened just before a kill -9 stays so.
// Such a file is left out of a range: it has nothing to play.
#pragma once

#include <glib.h>

#include <string>

namespace gms::record {

// Files of at least this size are taken to hold media without a look: a
// header alone is a few KiB.
constexpr guint64 kHeaderOnlyMaxBytes = 64 * 1024;

// False when `path` (of `size` bytes) is an MP4 with no fragment or media
// data box, or a Matroska file with no cluster. True otherwise, and for
// other formats and files it cannot read (the demuxer then says why).
bool segment_holds_media(const std::string& path, guint64 size);

}  // namespace gms::record
