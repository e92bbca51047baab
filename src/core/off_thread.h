// Work that may wait on a media handed to a thread of its own, away from
// the control thread: closing an RTSP client or dropping a session media
// tears the media down on the calling thread, and a pipeline that cannot
// stop keeps that thread for good.
#pragma once

#include <functional>

namespace gms {

// Runs `job` on a new detached thread named `name` (15 characters at most
// show), or here when no thread can be made. The job must hold what it
// uses: it may outlive its caller's objects, or never end.
void run_off_thread(const char* name, std::function<void()> job);

}  // namespace gms
