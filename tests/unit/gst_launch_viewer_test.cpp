// How the tests read a gst-launch-1.0 viewer's exit (support/gst_launch_viewer.h):
// only rtspsrc's own cancelled request at shutdown is forgiven.
#include <gtest/gtest.h>

#include "gst_launch_viewer.h"

namespace gms::test {
namespace {

const char kFlushPause[] =
    "0:00:01.145832918  6474 0x55d34c9ee400 DEBUG rtspsrc gstrtspsrc.c:6320:"
    "gst_rtspsrc_loop_send_cmd:<rtspsrc0> connection flush busy PAUSE\n";
const char kFlushClose[] =
    "0:00:01.145832918  6474 0x55d34c9ee400 DEBUG rtspsrc gstrtspsrc.c:6320:"
    "gst_rtspsrc_loop_send_cmd:<rtspsrc0> connection flush busy CLOSE\n";
const char kSendFailed[] =
    "0:00:01.245857835  6474 0x55d34cca6060 WARN rtspsrc gstrtspsrc.c:6766:"
    "gst_rtspsrc_try_send:<rtspsrc0> error: Could not send message. (Received end-of-file)\n";
const char kPrinted[] =
    "ERROR: from element /GstPipeline:pipeline0/GstRTSPSrc:rtspsrc0: Could not write to resource.\n"
    "Additional debug info:\n"
    "../gst/rtsp/gstrtspsrc.c(6766): gst_rtspsrc_try_send (): "
    "/GstPipeline:pipeline0/GstRTSPSrc:rtspsrc0:\n"
    "Could not send message. (Received end-of-file)\n";

RunResult exited(int status, std::string err) {
  RunResult r;
  r.exit_status = status;
  r.err = std::move(err);
  return r;
}

TEST(GstLaunchViewer, ExitZeroSucceeds) { EXPECT_TRUE(gst_launch_succeeded(exited(0, ""))); }

TEST(GstLaunchViewer, OwnCancelledPauseOrTeardownIsForgiven) {
  EXPECT_TRUE(gst_launch_succeeded(exited(1, std::string(kFlushPause) + kSendFailed + kPrinted)));
  EXPECT_TRUE(gst_launch_succeeded(
      exited(1, std::string(kFlushClose) + kSendFailed + kPrinted + kSendFailed + kPrinted)));
}

TEST(GstLaunchViewer, AnythingElseFails) {
  // The send failed before any flush: the server had closed the connection.
  EXPECT_FALSE(gst_launch_succeeded(exited(1, std::string(kSendFailed) + kFlushPause + kPrinted)));
  // No flush at all, or no debug log.
  EXPECT_FALSE(gst_launch_succeeded(exited(1, std::string(kSendFailed) + kPrinted)));
  EXPECT_FALSE(gst_launch_succeeded(exited(1, kPrinted)));
  // Another error beside it.
  EXPECT_FALSE(gst_launch_succeeded(exited(
      1, std::string(kFlushPause) + kSendFailed + kPrinted +
             "ERROR: from element /GstPipeline:pipeline0/GstRTSPSrc:rtspsrc0: Unhandled error\n"
             "Service Unavailable (503)\n")));
  // Killed at the deadline, or a crash.
  EXPECT_FALSE(gst_launch_succeeded(exited(-1, std::string(kFlushPause) + kSendFailed + kPrinted)));
  EXPECT_FALSE(gst_launch_succeeded(exited(134, std::string(kFlushPause) + kSendFailed + kPrinted)));
}

TEST(GstLaunchViewer, MessagesLeaveTheDebugLogOut) {
  EXPECT_EQ(gst_launch_messages(exited(1, std::string(kFlushPause) + kPrinted)), kPrinted);
}

}  // namespace
}  // namespace gms::test
