// The end of gst-rtsp-server's client and media threads at an orderly stop.
//
// Why: closing the clients only asks their threads to stop. Each then drops
// its last references (a client's session media, a shared media's pipeline,
// the relay readers in it) on its own, and a thread still finalizing
// elements while the main thread returns from main() and deinitialises
// GStreamer crashed the process (SIGSEGV in an element's finalize, seen at
// the end of test runs under load). The stop waits for those threads, for
// a bounded time.
#pragma once

namespace gms::tool {

// Waits up to `timeout_ms` for every thread of gst-rtsp-server's thread pool
// to end (gst_rtsp_thread_pool_cleanup(), on a thread of its own). False if
// some are still running then: the caller must not deinitialise GStreamer.
bool wait_for_rtsp_threads(unsigned timeout_ms);

}  // namespace gms::tool
