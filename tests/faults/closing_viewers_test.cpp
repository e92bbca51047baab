// TCP viewers that leave while their streams are sending, and a stop with
// TCP viewers leaving and playing.
//
// A closed TCP viewer's client is kept until no stream sends to it any more
// (src/core/tcp_transport_fence.h: gst-rtsp-server 1.22's send thread reads
// the client without holding it; the server died with SIGSEGV when it
// stopped with 100 TCP file viewers leaving, 1 run in 8). These cases check
// the other side of that: clients are let go, the server keeps answering,
// and a stop with many TCP viewers ends cleanly and in time (a client never
// let go would make the stop end without cleanup, exit status 1). They did
// not catch the crash itself (18 runs of the old server under the sanitizer
// passed); unit/client_reaper_test.cpp does, every run.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "media_fixtures.h"
#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

using namespace std::chrono_literals;

// About a thousand packets a second: the send thread is always in a pass.
constexpr char kBusyLine[] =
    "videotestsrc is-live=true pattern=snow ! "
    "video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! "
    "jpegenc quality=90 ! rtpjpegpay mtu=400 name=pay0 pt=26";

// Opens `n` TCP viewers of `url`, each reading its first frames.
std::vector<std::unique_ptr<RawRtsp>> open_viewers(uint16_t port, const std::string& url,
                                                   unsigned n) {
  std::vector<std::unique_ptr<RawRtsp>> all;
  for (unsigned i = 0; i < n; ++i) {
    auto v = std::make_unique<RawRtsp>(port);
    if (v->connected() && !play_over_tcp(*v, url).empty())
      all.push_back(std::move(v));
  }
  for (auto& v : all) {
    std::string bytes;
    v->read_frames(bytes, 2000);
  }
  return all;
}

bool answers(uint16_t port) {
  RawRtsp probe(port);
  return probe.connected() && probe.request(rtsp_request("OPTIONS", "*", 1, ""), 10s).status == 200;
}

TEST(ClosingTcpViewers, LeavingAllAtOnceWhileTheStreamSends) {
  ServerProcess srv({write_temp_file("busy.conf", "[path /busy]\nlaunch=" +
                                                      std::string(kBusyLine) + "\n")});
  ASSERT_TRUE(srv.ready());
  for (int round = 0; round < 6; ++round) {
    auto viewers = open_viewers(srv.port(), srv.url("/busy"), 24);
    ASSERT_GE(viewers.size(), 20u) << "round " << round << srv.log_tail();
    viewers.clear();  // every connection closed at once, unread data in them
    ASSERT_TRUE(answers(srv.port())) << "round " << round << srv.log_tail();
  }
  auto last = open_viewers(srv.port(), srv.url("/busy"), 24);
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << srv.log_tail();
  EXPECT_EQ(srv.stop(), 0) << srv.log_tail();  // with 24 viewers still playing
  EXPECT_FALSE(srv.log_contains("exiting without cleanup")) << srv.log_tail();
}

// The stop closes every connection and then removes every session, while
// viewers that left a moment before are being closed on their own threads
// (the bench's crash: a session removed before its client had cleaned it up
// keeps its media, and the viewer's transport in the stream, until the
// removal is over).
TEST(ClosingTcpViewers, StopAsTcpFileViewersLeave) {
  std::string dir = make_media_dir({"h264_aac.mp4"});
  for (int round = 0; round < 3; ++round) {
    ServerProcess srv({"--root", dir});
    ASSERT_TRUE(srv.ready());
    auto viewers = open_viewers(srv.port(), srv.url("/h264_aac.mp4"), 40);
    ASSERT_GE(viewers.size(), 35u) << srv.log_tail();
    auto staying = open_viewers(srv.port(), srv.url("/h264_aac.mp4"), 10);
    viewers.clear();
    EXPECT_EQ(srv.stop(), 0) << "round " << round << srv.log_tail();
    EXPECT_FALSE(srv.log_contains("exiting without cleanup")) << srv.log_tail();
  }
}

}  // namespace
}  // namespace gms::test
