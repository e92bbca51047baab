// PLAY with real clients: in-process rtspsrc over UDP and TCP, gst-launch-1.0
// and ffprobe as separate programs.
#include <gtest/gtest.h>

#include "gst_launch_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "viewer.h"

namespace gms::test {
namespace {

class PlayTest : public testing::TestWithParam<const char*> {};

TEST_P(PlayTest, FramesArriveWithSizeAndAudio) {
  ServerProcess srv({"--mount", std::string("/test=") + kH264Opus});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer v(srv.url("/test"), GetParam());
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 30 && v.audio_buffers() >= 10; }, 20s))
      << "video " << v.video_frames() << " audio " << v.audio_buffers() << " error " << v.error()
      << "\n" << srv.log();
  EXPECT_EQ(v.width(), 320);
  EXPECT_EQ(v.height(), 240);
  EXPECT_EQ(v.error(), "");
  EXPECT_FALSE(v.pts_went_back());
}

INSTANTIATE_TEST_SUITE_P(Transports, PlayTest, testing::Values("udp", "tcp"));

TEST(Play, GstLaunchRtspsrcDecodes) {
  ServerProcess srv({"--mount", std::string("/test=") + kH264Opus});
  ASSERT_TRUE(srv.ready());
  for (const char* proto : {"udp", "tcp"}) {
    RunResult r = run(with_rtspsrc_log({"gst-launch-1.0", "-q", "rtspsrc",
                                        "location=" + srv.url("/test"),
                                        std::string("protocols=") + proto, "latency=100", "!",
                                        "rtph264depay", "!", "h264parse", "!", "avdec_h264", "!",
                                        "fakesink", "num-buffers=30"}),
                      30s);
    // (rtspsrc may fail its own PAUSE or TEARDOWN after the end: gst_launch_viewer.h.)
    EXPECT_TRUE(gst_launch_succeeded(r))
        << proto << ": " << r.exit_status << "\n" << gst_launch_messages(r) << r.out;
  }
}

TEST(Play, FfprobeSeesCodecsAndSize) {
  ServerProcess srv({"--mount", std::string("/test=") + kH264Opus});
  ASSERT_TRUE(srv.ready());
  for (const char* proto : {"udp", "tcp"}) {
    RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", proto, "-show_entries",
                       "stream=codec_name,width,height", "-of", "compact", srv.url("/test")},
                      30s);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("codec_name=h264|width=320|height=240"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("codec_name=opus"), std::string::npos) << r.out;
  }
}

TEST(Play, TwoPathsAtOnce) {
  ServerProcess srv({"--mount", std::string("/a=") + kH264Opus, "--mount",
                     std::string("/b=") + kMjpeg});
  ASSERT_TRUE(srv.ready());
  Viewer a(srv.url("/a"), "tcp");
  Viewer b(srv.url("/b"), "udp");
  EXPECT_TRUE(wait_until([&] { return a.video_frames() >= 30 && b.video_frames() >= 15; }, 20s))
      << a.video_frames() << " " << b.video_frames() << " " << a.error() << b.error();
  EXPECT_EQ(b.width(), 160);
}

TEST(Play, SharedPathBuildsOnePipeline) {
  ServerProcess srv({"-v", "--mount", std::string("/s=") + kMjpeg});
  ASSERT_TRUE(srv.ready());
  Viewer a(srv.url("/s"), "udp");
  ASSERT_TRUE(wait_until([&] { return a.video_frames() >= 5; }, 20s));
  Viewer b(srv.url("/s"), "tcp");
  ASSERT_TRUE(wait_until([&] { return b.video_frames() >= 5; }, 20s));
  std::string log = srv.log();
  size_t n = 0;
  for (size_t p = log.find("path /s: new pipeline"); p != std::string::npos;
       p = log.find("path /s: new pipeline", p + 1))
    ++n;
  EXPECT_EQ(n, 1u) << log;
}

}  // namespace
}  // namespace gms::test
