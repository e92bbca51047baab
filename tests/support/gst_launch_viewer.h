// gst-launch-1.0 as an RTSP viewer (rtspsrc), and how to read its exit.
//
// rtspsrc 1.22 can fail at its own shutdown, whatever the server does. At the
// end of the stream gst-launch takes the pipeline from PLAYING to NULL in one
// call: PLAYING->PAUSED queues a PAUSE request on rtspsrc's task thread, and
// PAUSED->READY queues the TEARDOWN at once, flushing (cancelling) the
// connection if the task is busy with a request; READY->NULL flushes it again
// when the TEARDOWN took more than rtspsrc's teardown-timeout (100 ms). A
// request whose write was cancelled before a byte left fails as "Could not
// send message. (Received end-of-file)" (gstrtspconnection reads any write
// error with nothing written as end of file), an ERROR on the bus, and
// gst-launch exits 1. The request never reached the server. On a loaded
// machine this happens now and then (seen in the files and embedding tests);
// holding the PAUSE or the TEARDOWN back in the client makes it happen
// every time.
#pragma once

#include <string>
#include <vector>

#include "process.h"

namespace gms::test {

// `argv` (starting with gst-launch-1.0) with rtspsrc's debug log on stderr:
// the log says whether rtspsrc cancelled its own request.
std::vector<std::string> with_rtspsrc_log(const std::vector<std::string>& argv);

// Exit 0, or exit 1 whose every error is a request rtspsrc itself cancelled
// at shutdown (its log shows the flush before the failed send). Needs the
// log of with_rtspsrc_log().
bool gst_launch_succeeded(const RunResult& r);

// What gst-launch printed on stderr, without rtspsrc's debug log.
std::string gst_launch_messages(const RunResult& r);

}  // namespace gms::test
