// Connection limits of the front door:
// first-request deadline, header size cap, global and per-address caps;
// and max-viewers on every kind of path.
#include <gtest/gtest.h>

#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::unique_ptr<ServerProcess> server_with(const std::string& server_keys) {
  std::string conf = write_temp_file(
      "site.conf", "[server]\n" + server_keys + "\n[path /a]\nlaunch=" + kMjpeg + "\n");
  return std::make_unique<ServerProcess>(std::vector<std::string>{conf});
}

std::string options(const ServerProcess& s, int cseq) {
  return "OPTIONS " + s.url("/a") + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) + "\r\n\r\n";
}

TEST(Limits, SlowFirstRequestIsClosedAtTheDeadline) {
  auto srv = server_with("request-timeout=1");
  ASSERT_TRUE(srv->ready());
  RawRtsp slow(srv->port());
  ASSERT_TRUE(slow.send("OPTIONS " + srv->url("/a") + " RTSP/1.0\r\n"));  // never finished
  auto t0 = std::chrono::steady_clock::now();
  RtspReply r = slow.read_reply(5s);
  EXPECT_EQ(r.status, 0);  // closed without a reply
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  RawRtsp ok(srv->port());
  EXPECT_EQ(ok.request(options(*srv, 1)).status, 200);
}

TEST(Limits, EndlessHeadersAreRefused) {
  auto srv = server_with("max-request-size=4096");
  ASSERT_TRUE(srv->ready());
  RawRtsp c(srv->port());
  std::string req = "OPTIONS " + srv->url("/a") + " RTSP/1.0\r\nCSeq: 1\r\n";
  for (int i = 0; i < 1000; ++i)
    req += "X-A: b\r\n";
  c.send(req);
  RtspReply r = c.read_reply(5s);
  EXPECT_EQ(r.status, 431) << r.text;
  Viewer v(srv->url("/a"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 3; }, 20s));
}

TEST(Limits, NulBytesAreRefused) {
  auto srv = server_with("");
  ASSERT_TRUE(srv->ready());
  RawRtsp c(srv->port());
  c.send(std::string("OPTIONS rtsp://x/a RTSP/1.0\r\nCSeq: 1\0\r\n\r\n", 40));
  EXPECT_EQ(c.read_reply(5s).status, 400);
}

TEST(Limits, MaxConnectionsGives503AndFreesOnClose) {
  auto srv = server_with("max-connections=3");
  ASSERT_TRUE(srv->ready());
  std::vector<std::unique_ptr<RawRtsp>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<RawRtsp>(srv->port()));
    ASSERT_EQ(open.back()->request(options(*srv, 1)).status, 200);
  }
  RawRtsp over(srv->port());
  RtspReply r = over.request(options(*srv, 7));
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_EQ(r.header("CSeq"), "7");
  open.pop_back();  // closing one makes room
  EXPECT_TRUE(wait_until(
      [&] {
        RawRtsp again(srv->port());
        return again.request(options(*srv, 2)).status == 200;
      },
      5s));
}

TEST(Limits, MaxConnectionsPerAddress) {
  auto srv = server_with("max-connections-per-address=2");
  ASSERT_TRUE(srv->ready());
  RawRtsp a(srv->port()), b(srv->port()), c(srv->port());
  EXPECT_EQ(a.request(options(*srv, 1)).status, 200);
  EXPECT_EQ(b.request(options(*srv, 1)).status, 200);
  EXPECT_EQ(c.request(options(*srv, 1)).status, 503);
}

// A path's max-viewers holds whatever its kind: a shared launch line (on the
// relay), a per-viewer one, a proxy, and a file root, whose files all count
// as the root. The refusal is 453 with the reason; the viewer already there
// goes on. (The proxy reads /c, which has no limit: a proxy's back-end
// session is a viewer of its origin like any other.)
TEST(ViewerLimits, MaxViewersOnEveryPathKind) {
  const char* src = g_getenv("GMS_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  uint16_t port = free_port();
  std::string conf = write_temp_file(
      "kinds.conf",
      std::string("[path /a]\nlaunch=") + kMjpeg + "\nmax-viewers=1\n" +
          "[path /b]\nlaunch=" + kMjpeg + "\nshared=false\nmax-viewers=1\n" +
          "[path /p]\nproxy=rtsp://127.0.0.1:" + std::to_string(port) +
          "/c\nbackend-transport=tcp\nmax-viewers=1\n" +
          "[path /files]\nroot=" + src + "/data/media\nmax-viewers=1\n" +
          "[path /c]\nlaunch=" + kMjpeg + "\n");
  ServerProcess srv({conf}, true, port);
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  for (const std::string path : {"/a", "/b", "/p", "/files/sample.mp4"}) {
    Viewer first(srv.url(path), "tcp");
    ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 5; }, 20s))
        << path << ": " << first.error() << srv.log_tail();
    RawRtsp raw(srv.port());
    RtspReply r = raw.request(describe(srv.url(path), 1));
    ASSERT_EQ(r.status, 200) << path << "\n" << r.text;
    r = raw.request(setup_play(srv.url(path) + "/stream=0", 2));
    std::string counted = path.rfind("/files", 0) == 0 ? "/files" : path;
    EXPECT_EQ(r.status, 453) << path << "\n" << r.text;
    EXPECT_NE(r.text.find("max-viewers (1) reached on " + counted), std::string::npos) << r.text;
    unsigned before = first.video_frames();
    EXPECT_TRUE(wait_until([&] { return first.video_frames() > before + 3; }, 10s))
        << path << ": the first viewer stopped";
  }
  // A path without a limit takes two (beside the proxy's back-end session).
  Viewer c1(srv.url("/c"), "tcp"), c2(srv.url("/c"), "udp");
  EXPECT_TRUE(wait_until([&] { return c1.video_frames() >= 5 && c2.video_frames() >= 5; }, 20s))
      << c1.error() << c2.error();
}

}  // namespace
}  // namespace gms::test
