// Start-up and shutdown: refusals with exit status 2 and a position, --check,
// clean stop on SIGTERM/SIGINT, 503 for a path that cannot be built.
#include <gtest/gtest.h>
#include <signal.h>

#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

RunResult run_server(std::vector<std::string> args) {
  args.insert(args.begin(), build_path("src/gst-mediaserver"));
  return run(args, 20s);
}

TEST(Startup, BadConfigRefusedWithPosition) {
  std::string conf = write_temp_file("site.conf", "[server]\nport=8554\n[path /a]\nlanch=x\n");
  RunResult r = run_server({conf});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find(conf + ":4: [path /a] lanch: unknown key; did you mean 'launch'?"),
            std::string::npos)
      << r.err;
}

TEST(Startup, LaunchLineWithoutPayloaderRefused) {
  std::string conf = write_temp_file("site.conf", "[path /a]\nlaunch=videotestsrc ! fakesink\n");
  RunResult r = run_server({conf});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find(":1: [path /a] launch: no payloader"), std::string::npos) << r.err;
}

TEST(Startup, LaunchLineThatDoesNotParseRefused) {
  RunResult r = run_server({"--mount", "/a=videotestsrc ! ! rtpvrawpay name=pay0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("does not parse"), std::string::npos) << r.err;
}

TEST(Startup, DuplicatePathRefused) {
  std::string conf = write_temp_file(
      "site.conf", "[path /a]\nlaunch=videotestsrc ! rtpvrawpay name=pay0\n[path /a]\nlaunch=x\n");
  RunResult r = run_server({conf});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find(":3: [path /a] duplicate group"), std::string::npos) << r.err;
}

TEST(Startup, UnbuiltOptionRefused) {
  RunResult r = run_server({"--users", "/nonexistent/gms-users"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("/nonexistent/gms-users: cannot read"), std::string::npos) << r.err;
  // The HTTP API needs a port of its own.
  r = run_server({"-p", "9554", "--http-port", "9554", "--mount",
                  "/a=videotestsrc ! rtpvrawpay name=pay0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("http-port: the HTTP API needs a port of its own"), std::string::npos)
      << r.err;
}

TEST(Startup, PortInUseRefused) {
  ServerProcess first({"--mount", std::string("/a=") + kMjpeg});
  ASSERT_TRUE(first.ready());
  RunResult r = run_server({"-a", "127.0.0.1", "-p", std::to_string(first.port()), "--mount",
                            std::string("/a=") + kMjpeg});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << r.err;
}

TEST(Startup, CheckPrintsPathsAndExits) {
  std::string conf = write_temp_file(
      "site.conf", std::string("[server]\nport=9999\n[path /a]\nlaunch=") + kMjpeg + "\n");
  RunResult r = run_server({"--check", conf, "--mount", std::string("/b=") + kMjpeg});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("configuration OK"), std::string::npos);
  EXPECT_NE(r.out.find("/a"), std::string::npos);
  EXPECT_NE(r.out.find("/b"), std::string::npos);
}

TEST(Startup, HelpAndVersion) {
  RunResult r = run_server({"--help"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.out.find("--mount PATH=LAUNCH"), std::string::npos);
  r = run_server({"--version"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.out.find("gst-mediaserver 0."), std::string::npos);
}

TEST(Startup, ShippedConfigurationsPassCheck) {
  const char* src = g_getenv("GMS_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  GErrorPtr err;
  std::string dir = std::string(src) + "/launch";
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, out(err)));
  ASSERT_TRUE(d);
  int n = 0;
  while (const char* name = g_dir_read_name(d.get())) {
    if (!g_str_has_suffix(name, ".conf"))
      continue;
    RunResult r = run_server({"--check", dir + "/" + name});
    EXPECT_EQ(r.exit_status, 0) << name << ": " << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << name << ": " << r.err;
    ++n;
  }
  EXPECT_GE(n, 1);
}

TEST(Shutdown, SigtermAndSigintExitZeroWithViewers) {
  for (int sig : {SIGTERM, SIGINT}) {
    ServerProcess srv({"--mount", std::string("/a=") + kMjpeg});
    ASSERT_TRUE(srv.ready());
    Viewer v(srv.url("/a"), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
    srv.signal(sig);
    EXPECT_EQ(srv.wait_exit(10s), 0) << srv.log();
  }
}

TEST(Runtime, MissingElementAnswers503OthersPlay) {
  ServerProcess srv({"--mount", "/bad=videotestsrc ! nosuchencoder ! rtph264pay name=pay0",
                     "--mount", std::string("/good=") + kMjpeg});
  ASSERT_TRUE(srv.ready());
  EXPECT_TRUE(srv.log_contains("element not installed (nosuchencoder)"));
  RawRtsp c(srv.port());
  RtspReply r = c.request("DESCRIBE " + srv.url("/bad") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
  EXPECT_EQ(r.status, 503) << r.text;
  Viewer v(srv.url("/good"), "udp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
  EXPECT_TRUE(srv.log_contains("503, element not installed: nosuchencoder"));
}

TEST(Runtime, PipelineFailingAtStartAnswers503OthersPlay) {
  ServerProcess srv({"--mount",
                     "/broken=filesrc location=/nonexistent/file.mp4 ! qtdemux ! h264parse ! "
                     "rtph264pay name=pay0",
                     "--mount", std::string("/good=") + kMjpeg});
  ASSERT_TRUE(srv.ready());
  RawRtsp c(srv.port());
  RtspReply r = c.request("DESCRIBE " + srv.url("/broken") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 30s);
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_TRUE(wait_until([&] { return srv.log_contains("path /broken: pipeline error"); }, 5s))
      << srv.log();
  Viewer v(srv.url("/good"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
}

}  // namespace
}  // namespace gms::test
