// Stopping a back-end pipeline can take as long as the back end wants:
// rtspsrc's state change to NULL waits for its own thread, and that thread may
// be reading a response that never ends. So the control context never waits
// for it: each pipeline is taken to NULL and dropped on a thread of its own,
// and if that has not finished after a grace period the session's RTSP
// connections are shut, which ends rtspsrc's reads.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <memory>

#include "gms/ref.h"
#include "proxy/backend_link.h"

namespace gms::proxy {

// `grace`: how long rtspsrc may take to close politely (its TEARDOWN) before
// link->abort(); 0 aborts at once.
void reap_pipeline(Ref<GstElement> pipeline, std::shared_ptr<BackendLink> link,
                   std::chrono::milliseconds grace);

// Pipelines not yet stopped.
size_t pipelines_being_reaped();

// Waits until every reap has finished or `timeout` passed; false if some
// are still running (then GStreamer must not be deinitialised).
bool wait_for_reaped_pipelines(std::chrono::milliseconds timeout);

}  // namespace gms::proxy
