// An edge in front of an origin, both gst-mediaserver: a pattern proxy makes
// a path per requested name, the origin's 404 is the viewer's 404, unused
// paths go; the health check and the drain before a stop.
#include <gtest/gtest.h>
#include <signal.h>

#include "http_client.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::unique_ptr<ServerProcess> origin() {
  return std::make_unique<ServerProcess>(std::vector<std::string>{
      "-v", "--mount", std::string("/live/cam1=") + kH264Opus, "--mount",
      std::string("/live/cam2=") + kMjpeg});
}

std::unique_ptr<ServerProcess> edge(const ServerProcess& o, const std::string& extra = "",
                                    bool http_api = false) {
  std::string conf = write_temp_file(
      "edge.conf", "[server]\nverbose=1\n" + extra + "[path /live/*]\nproxy=rtsp://127.0.0.1:" +
                       std::to_string(o.port()) + "/$path\nlinger=1\n");
  return std::make_unique<ServerProcess>(std::vector<std::string>{conf}, true, 0,
                                         std::vector<std::string>{}, http_api);
}

int describe_status(const ServerProcess& s, const std::string& path) {
  RawRtsp c(s.port());
  return c.request("DESCRIBE " + s.url(path) + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 10s).status;
}

TEST(Edge, PatternProxyMakesAPathPerNameWithOneBackEndSessionEach) {
  auto o = origin();
  ASSERT_TRUE(o->ready()) << o->log();
  auto e = edge(*o);
  ASSERT_TRUE(e->ready()) << e->log();
  {
    Viewer a(e->url("/live/cam1"), "tcp");
    Viewer b(e->url("/live/cam1"), "udp");
    Viewer c(e->url("/live/cam2"), "tcp");
    EXPECT_TRUE(wait_until(
        [&] { return a.video_frames() >= 15 && b.video_frames() >= 15 && c.video_frames() >= 15; },
        25s))
        << a.state() << b.state() << c.state() << "\n" << e->log_tail();
    EXPECT_EQ(a.width(), 320);
    // Three viewers of two paths: one session at the origin per path.
    EXPECT_EQ(count_occurrences(o->log(), "new session"), 2u) << o->log_tail();
  }
  // Unused after linger (1 s): the paths go, and come back at the next viewer.
  EXPECT_TRUE(wait_until([&] { return e->log_contains("path /live/cam1: unused; removed"); }, 15s))
      << e->log_tail();
  Viewer again(e->url("/live/cam1"), "tcp");
  EXPECT_TRUE(wait_until([&] { return again.video_frames() >= 10; }, 20s))
      << again.state() << "\n" << e->log_tail();
  EXPECT_EQ(count_occurrences(e->log(), "path /live/cam1: made on demand"), 2u) << e->log_tail();
}

TEST(Edge, TheOriginsNotFoundIsTheViewersNotFoundAtOnce) {
  auto o = origin();
  ASSERT_TRUE(o->ready()) << o->log();
  auto e = edge(*o);
  ASSERT_TRUE(e->ready()) << e->log();
  for (int i = 0; i < 3; ++i) {  // again and again: never a wait, never a 503
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(describe_status(*e, "/live/nothing"), 404) << e->log_tail();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  }
  // Nothing under the pattern's prefix but the pattern itself.
  EXPECT_EQ(describe_status(*e, "/elsewhere"), 404) << e->alive() << e->log_tail();
  // The name does not stay: the paths of 404s go.
  EXPECT_TRUE(wait_until([&] { return e->log_contains("path /live/nothing: unused; removed"); }, 10s))
      << e->log_tail();
}

TEST(Edge, DrainKeepsViewersFailsHealthAndRefusesNewOnes) {
  auto o = origin();
  ASSERT_TRUE(o->ready()) << o->log();
  auto e = edge(*o, "drain-timeout=20\n", true);
  ASSERT_TRUE(e->ready()) << e->log();
  HttpReply h = http_get(e->http_url("/api/v1/health"));
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  auto viewer = std::make_unique<Viewer>(e->url("/live/cam1"), "tcp");
  ASSERT_TRUE(wait_until([&] { return viewer->video_frames() >= 10; }, 20s)) << viewer->state();

  e->signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return http_get(e->http_url("/api/v1/health")).status == 503; }, 5s))
      << e->log_tail();
  EXPECT_EQ(http_get(e->http_url("/api/v1/health")).body, R"({"status":"draining"})");
  // No new viewers: the port is closed.
  EXPECT_EQ(describe_status(*e, "/live/cam1"), 0);
  // The viewer goes on.
  unsigned before = viewer->video_frames();
  EXPECT_TRUE(wait_until([&] { return viewer->video_frames() >= before + 25; }, 10s))
      << viewer->state() << "\n" << e->log_tail();
  EXPECT_TRUE(e->alive());
  // It leaves: the server ends, well before drain-timeout.
  auto t0 = std::chrono::steady_clock::now();
  viewer.reset();
  EXPECT_EQ(e->wait_exit(10s), 0) << e->log_tail();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_TRUE(e->log_contains("drained")) << e->log_tail();
}

TEST(Edge, SecondSignalStopsADrainAtOnce) {
  auto o = origin();
  ASSERT_TRUE(o->ready()) << o->log();
  auto e = edge(*o, "drain-timeout=60\n", true);
  ASSERT_TRUE(e->ready()) << e->log();
  Viewer viewer(e->url("/live/cam1"), "tcp");
  ASSERT_TRUE(wait_until([&] { return viewer.video_frames() >= 5; }, 20s)) << viewer.state();
  e->signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return e->log_contains("draining"); }, 5s)) << e->log_tail();
  auto t0 = std::chrono::steady_clock::now();
  e->signal(SIGINT);
  EXPECT_EQ(e->wait_exit(10s), 0) << e->log_tail();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(Edge, WithoutDrainTimeoutSigtermStopsAtOnce) {
  auto o = origin();
  ASSERT_TRUE(o->ready()) << o->log();
  auto e = edge(*o, "", true);
  ASSERT_TRUE(e->ready()) << e->log();
  Viewer viewer(e->url("/live/cam1"), "tcp");
  ASSERT_TRUE(wait_until([&] { return viewer.video_frames() >= 5; }, 20s)) << viewer.state();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(e->stop(10s), 0) << e->log_tail();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

}  // namespace
}  // namespace gms::test
