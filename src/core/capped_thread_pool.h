// A GstRTSPThreadPool that asks the server's PipelineCap before the
// library prepares a media for a viewer.
//
// gst-rtsp-server 1.22 asks its thread pool for a media thread right
// before each gst_rtsp_media_prepare() (in find_media(), for DESCRIBE and
// for a SETUP without DESCRIBE), after the media's elements were made but
// before anything is opened or prerolled, and answers 503 when none comes.
// That is the one place every kind of path passes through before a new
// pipeline starts, and it runs before the library holds any lock of the
// media: a refusal here builds nothing more and waits for nothing. The
// refusal's reason goes into the 503's status line, with Retry-After
// (publish_mount.h's reply hook).
#pragma once

#include <gst/rtsp-server/rtsp-thread-pool.h>

#include <memory>

namespace gms {

class PipelineCap;

// (transfer full) Client threads as the stock pool's; media threads only
// within `cap`.
GstRTSPThreadPool* new_capped_thread_pool(std::shared_ptr<PipelineCap> cap);

}  // namespace gms
