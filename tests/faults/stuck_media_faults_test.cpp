// A media whose pipeline cannot stop: an element stuck in a call that does
// not return (a blocking write, a driver, here a sleep of 10 minutes in a
// branch of the pipeline) holds its streaming thread, so the media's
// teardown waits for ever, and with it the RTSP client thread that tears
// it down and the locks that thread holds (its session media's). Nothing
// else may wait with them: the RTSP front door, the HTTP API, the other
// paths' viewers, ending that session or removing its path over the API,
// and the stop.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "http_client.h"
#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

// Video for the viewer, and a branch whose identity sleeps 600 s on its
// first buffer, holding its queue's streaming thread (a live pipeline:
// nothing waits for that branch to preroll).
const char kStuck[] =
    "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! tee name=t ! queue ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1 "
    "t. ! queue leaky=downstream ! identity sleep-time=600000000 ! fakesink async=false";

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TEST(StuckMedia, OnlyItsOwnViewerWaitsWithIt) {
  std::string conf = write_temp_file(
      "stuck.conf", std::string("[path /stuck]\nshared=false\nlaunch=") + kStuck +
                        "\n[path /ok]\nlaunch=" + kMjpeg + "\n");
  ServerProcess srv({conf}, true, 0, {}, true);
  ASSERT_TRUE(srv.ready()) << srv.log();

  // The stuck media's viewer plays, then leaves: its TEARDOWN tears the
  // media down on its client thread, which then waits for good.
  RawRtsp stuck(srv.port());
  const std::string id = play_over_tcp(stuck, srv.url("/stuck"));
  ASSERT_FALSE(id.empty()) << srv.log_tail();
  ASSERT_TRUE(stuck.read_interleaved(10s).channel >= 0) << "no media from /stuck";
  stuck.send(rtsp_request("TEARDOWN", srv.url("/stuck"), 4, id));

  // For 6 s (three of the figures' refreshes and of the dropped-viewer
  // looks, which read every session): each door answers within a second.
  const auto until = Clock::now() + 6s;
  unsigned rounds = 0;
  while (Clock::now() < until) {
    auto t0 = Clock::now();
    HttpReply list = http_get(srv.http_url("/api/v1/sessions"));
    EXPECT_EQ(list.status, 200u) << "round " << rounds;
    EXPECT_LT(seconds_since(t0), 1.0) << "GET /api/v1/sessions, round " << rounds;
    t0 = Clock::now();
    RawRtsp c(srv.port());
    EXPECT_EQ(c.request(rtsp_request("OPTIONS", srv.url("/ok"), 1, ""), 5s).status, 200u);
    EXPECT_LT(seconds_since(t0), 1.0) << "OPTIONS, round " << rounds;
    if (HasFailure())
      break;
    ++rounds;
    std::this_thread::sleep_for(500ms);  // paces the rounds; bounded by `until`
  }
  EXPECT_GE(rounds, 4u);

  // Another path's viewer joins and plays.
  PacketViewer ok(srv.port(), srv.url("/ok"));
  ASSERT_TRUE(ok.ok()) << ok.state() << srv.log_tail();
  EXPECT_TRUE(ok.flowing(30, 10s)) << ok.state();

  // Ending the stuck session over the API is answered at once (the ending
  // itself waits with the media, on the sessions' worker).
  auto t0 = Clock::now();
  EXPECT_EQ(http_request("DELETE", srv.http_url("/api/v1/sessions/" + id)).status, 204u);
  EXPECT_LT(seconds_since(t0), 1.0);
  t0 = Clock::now();
  EXPECT_EQ(http_get(srv.http_url("/api/v1/paths")).status, 200u);
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_TRUE(ok.flowing(30, 10s)) << ok.state();

  // A second viewer of the path, which then goes over the API: closing its
  // client tears its media down, which waits for good; the API answers at
  // once and the doors stay open.
  RawRtsp second(srv.port());
  ASSERT_FALSE(play_over_tcp(second, srv.url("/stuck")).empty()) << srv.log_tail();
  ASSERT_TRUE(second.read_interleaved(10s).channel >= 0) << "no media from /stuck";
  t0 = Clock::now();
  EXPECT_EQ(http_request("DELETE", srv.http_url("/api/v1/paths/stuck")).status, 204u);
  EXPECT_LT(seconds_since(t0), 1.0) << "DELETE /api/v1/paths/stuck";
  for (int round = 0; round < 3; ++round) {
    t0 = Clock::now();
    EXPECT_EQ(http_get(srv.http_url("/api/v1/sessions")).status, 200u);
    RawRtsp c(srv.port());
    EXPECT_EQ(c.request(rtsp_request("OPTIONS", srv.url("/ok"), 1, ""), 5s).status, 200u);
    EXPECT_LT(seconds_since(t0), 1.0) << "after the path's removal, round " << round;
    std::this_thread::sleep_for(1s);  // three rounds over 3 s
  }
  EXPECT_TRUE(ok.flowing(30, 10s)) << ok.state();

  // The stop ends the process, forced if need be (4 s), and its exit does
  // not wait for the stuck threads past its deadline (5 s).
  t0 = Clock::now();
  const int status = srv.stop(15s);
  EXPECT_NE(status, -1) << "killed after 15 s: " << srv.log_tail();
  EXPECT_LT(seconds_since(t0), 12.0);
  EXPECT_TRUE(srv.log_contains("did not end within 5 s of the stop") ||
              srv.log_contains("not stopped in time"))
      << srv.log_tail();
}

}  // namespace
}  // namespace gms::test
