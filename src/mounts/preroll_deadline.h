// A file's media prerolls within a bound, or fails at once.
//
// gst-rtsp-server 1.22 waits up to 20 s for a media to preroll, on the RTSP
// client thread that asked for it (and every connection that thread
// serves). A demuxer that stops on a broken file without an error or an
// end leaves nothing to preroll and nothing to say so: an MP4 whose chunk
// offsets point past its end (played by qtdemux), a Matroska block whose
// size runs past the end (matroskademux in parsebin). Each DESCRIBE of such
// a file held its client thread for the whole 20 s before its 503. Past the
// bound an error is posted on the media's pipeline: the library's wait
// ends and the client gets its 503 then.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <chrono>
#include <string>

namespace gms::mounts {

// From media-configure, before the media prepares: unless `media` is
// prepared within `bound`, its pipeline gets an error naming `what`.
void fail_preroll_after(GstRTSPMedia* media, std::chrono::milliseconds bound,
                        const std::string& what);

}  // namespace gms::mounts
