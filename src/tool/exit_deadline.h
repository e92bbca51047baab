// The program's last step, bounded: gst_deinit() waits for every
// GStreamer streaming thread to end, and a pipeline element stuck in a
// call that never returns (a blocking write, a sleep, a driver) keeps one
// for ever, so the stopped server would never exit and a service manager
// would have to kill it. Past the deadline the process exits at once with
// the code it was going to return.
#pragma once

#include <chrono>

namespace gms::tool {

// Arms the deadline for what follows (gst_deinit()); the process exits
// with `code` if it is still running `limit` from now.
void exit_within(std::chrono::seconds limit, int code);

}  // namespace gms::tool
