// Publishing lifecycle and limits: no publisher (404 or wait), a busy path,
// override, publisher gone (EOS after publisher-timeout, or keep-viewers),
// max-viewers and max-publishers (453 with the reason).
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include <algorithm>
#include <functional>

#include "child.h"
#include "first_key.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

ServerProcess server_with(const std::string& conf) {
  return ServerProcess({"-v", write_temp_file("publish.conf", conf)});
}

// The publisher has announced and its packets arrive: a DESCRIBE succeeds.
bool published(ServerProcess& srv, const std::string& path) {
  return wait_until([&] { return srv.log_contains("publishing " + path + " ("); }, 15s) &&
         wait_published(srv, path);
}

TEST(PublishLifecycle, NoPublisherIs404) {
  ServerProcess srv({"--publish", "/live/*", "--publish", "/cam"});
  ASSERT_TRUE(srv.ready());
  for (const char* path : {"/cam", "/live/x"}) {
    RawRtsp raw(srv.port());
    RtspReply r = raw.request(describe(srv.url(path), 1));
    EXPECT_EQ(r.status, 404) << path << "\n" << r.text;
  }
  RawRtsp raw(srv.port());
  RtspReply r = raw.request(describe(srv.url("/cam"), 1));
  EXPECT_NE(r.text.find("no publisher"), std::string::npos) << r.text;
}

TEST(PublishLifecycle, WaitPublisher) {
  auto srv = server_with("[path /w]\npublish=true\nwait-publisher=15\n");
  ASSERT_TRUE(srv.ready()) << srv.log();
  RawRtsp raw(srv.port());
  ASSERT_TRUE(raw.send(describe(srv.url("/w"), 1)));
  g_usleep(500000);
  Child pub(ffmpeg_publisher(srv.url("/w"), "tcp", 20));
  RtspReply r = raw.read_reply(20s);
  EXPECT_EQ(r.status, 200) << r.text << srv.log();
  EXPECT_NE(r.text.find("H264/90000"), std::string::npos) << r.text;
}

TEST(PublishLifecycle, SecondPublisherRefused) {
  ServerProcess srv({"-v", "--publish", "/cam"});
  ASSERT_TRUE(srv.ready());
  Child a(ffmpeg_publisher(srv.url("/cam"), "tcp", 30));
  ASSERT_TRUE(published(srv, "/cam")) << srv.log() << a.output();
  RawRtsp raw(srv.port());
  RtspReply r = raw.request(announce(srv.url("/cam"), h264_sdp(), 1));
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_NE(r.text.find("already has a publisher"), std::string::npos) << r.text;
  Child b(ffmpeg_publisher(srv.url("/cam"), "tcp", 30));
  EXPECT_NE(b.wait(15000), 0) << b.output();
  EXPECT_TRUE(a.running());
  Viewer v(srv.url("/cam"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 30; }, 20s)) << v.error();
}

TEST(PublishLifecycle, OverrideReplacesViewersContinue) {
  auto srv = server_with("[path /o]\npublish=true\noverride=true\n");
  ASSERT_TRUE(srv.ready());
  Child a(ffmpeg_publisher(srv.url("/o"), "tcp", 60));
  ASSERT_TRUE(published(srv, "/o")) << srv.log();
  Viewer v(srv.url("/o"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 30; }, 20s)) << v.error() << srv.log();
  Child b(ffmpeg_publisher(srv.url("/o"), "tcp", 60));
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("replacing the previous publisher"); }, 15s))
      << srv.log();
  EXPECT_NE(a.wait(15000), 0) << "the replaced publisher should be cut off";
  unsigned before = v.video_frames();
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= before + 60; }, 20s))
      << before << " -> " << v.video_frames() << " " << v.error() << srv.log();
  EXPECT_FALSE(v.got_eos());
  EXPECT_EQ(v.error(), "");
}

// The new publisher sends another codec: the viewers' SDP no longer fits,
// so their stream ends (EOS) and a viewer that comes back, at once, gets the
// new one. `after_eos` runs between the first viewer's end and the second's
// start.
void override_with_another_codec(ServerProcess& srv, const std::function<void()>& after_eos = {}) {
  Child a(ffmpeg_publisher(srv.url("/c"), "tcp", 60));
  ASSERT_TRUE(published(srv, "/c")) << srv.log_tail();
  Viewer v(srv.url("/c"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();
  Child b({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
           "testsrc=size=320x240:rate=30:duration=60", "-c:v", "mjpeg", "-huffman", "default", "-q:v", "5", "-pix_fmt",
           "yuvj420p", "-f", "rtsp", "-rtsp_transport", "tcp", srv.url("/c")});
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("replacing the previous publisher"); }, 15s))
      << srv.log_tail() << b.output();
  EXPECT_TRUE(wait_until([&] { return v.got_eos(); }, 15s))
      << "the H.264 viewer should be ended: " << v.video_frames() << " " << v.error()
      << srv.log_tail();
  EXPECT_EQ(v.error(), "");
  if (after_eos)
    after_eos();
  // Back again: the SDP now says JPEG, and the pictures come.
  Viewer w(srv.url("/c"), "tcp");
  EXPECT_TRUE(wait_until([&] { return w.video_frames() >= 30; }, 20s))
      << w.error() << srv.log_tail() << b.output();
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "csv=p=0", srv.url("/c")},
                    20s);
  EXPECT_EQ(r.out, "mjpeg\n") << r.err;
}

TEST(PublishLifecycle, OverrideWithAnotherCodecEndsViewersWhoReconnect) {
  auto srv = server_with("[path /c]\npublish=true\noverride=true\n");
  ASSERT_TRUE(srv.ready());
  override_with_another_codec(srv);
}

// The viewers learn of the end from the RTCP BYE, which leaves before every
// sink of their media has its EOS (and the pipeline its EOS message): a
// viewer back at once must not be handed the ended media (old SDP, no packet
// ever again; src/mounts/eos_renewal.h). Here the server's RTP sessions hold
// their RTCP EOS 2 s after the BYE (an LD_PRELOAD library of ours), so the
// viewer comes back inside that window every time.
TEST(PublishLifecycle, ViewerBackBeforeTheMediaEndsGetsTheNewCodec) {
  const std::string shim = build_path("tests/late_rtcp_eos_shim.so");
  ASSERT_TRUE(g_file_test(shim.c_str(), G_FILE_TEST_EXISTS)) << shim;
  ServerProcess srv({"-v", write_temp_file("publish.conf", "[path /c]\npublish=true\noverride=true\n")},
                    true, 0, {"env", "LD_PRELOAD=" + shim, "GMS_RTCP_EOS_DELAY_MS=2000"});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  override_with_another_codec(srv, [&] {
    EXPECT_TRUE(wait_until(
        [&] { return srv.log_contains("late-rtcp-eos shim: EOS on send_rtcp_src"); }, 1s))
        << "the old media's end was not held: the case is not exercised\n" << srv.log_tail();
  });
}

TEST(PublishLifecycle, PublisherGoneViewersGetEos) {
  auto srv = server_with("[path /g]\npublish=true\npublisher-timeout=1\n");
  ASSERT_TRUE(srv.ready());
  Child a(ffmpeg_publisher(srv.url("/g"), "tcp", 60));
  ASSERT_TRUE(published(srv, "/g"));
  Viewer v(srv.url("/g"), "udp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();
  a.signal(SIGKILL);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return v.got_eos(); }, 10s)) << srv.log();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_GE(took.count(), 800) << "EOS before publisher-timeout";
  // The path is free again at once.
  Child b(ffmpeg_publisher(srv.url("/g"), "tcp", 30));
  EXPECT_TRUE(wait_until(
      [&] {
        std::string log = srv.log();
        return log.find("publishing /g") != log.rfind("publishing /g");
      },
      15s))
      << srv.log();
}

TEST(PublishLifecycle, KeepViewersAcrossPublishers) {
  auto srv = server_with("[path /k]\npublish=true\nkeep-viewers=true\npublisher-timeout=1\n");
  ASSERT_TRUE(srv.ready());
  Child a(ffmpeg_publisher(srv.url("/k"), "tcp", 60));
  ASSERT_TRUE(published(srv, "/k")) << srv.log();
  Viewer v(srv.url("/k"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error() << srv.log();
  a.signal(SIGKILL);
  g_usleep(3 * G_USEC_PER_SEC);  // well past publisher-timeout: the viewer must stay
  ASSERT_FALSE(v.got_eos());
  unsigned before = v.video_frames();
  Child b(ffmpeg_publisher(srv.url("/k"), "tcp", 60));
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= before + 60; }, 20s))
      << before << " -> " << v.video_frames() << " " << v.error() << srv.log();
  EXPECT_FALSE(v.got_eos());
  EXPECT_FALSE(v.pts_went_back());
}

TEST(PublishLimits, MaxViewersPerPathAndServer) {
  auto srv = server_with("[server]\nmax-viewers=2\n[path /l]\npublish=true\nmax-viewers=1\n"
                         "[path /m]\npublish=true\n");
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child a(ffmpeg_publisher(srv.url("/l"), "tcp", 60, false, "160x120"));
  Child b(ffmpeg_publisher(srv.url("/m"), "tcp", 60, false, "160x120"));
  ASSERT_TRUE(published(srv, "/l") && published(srv, "/m")) << srv.log();
  Viewer v1(srv.url("/l"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v1.video_frames() >= 15; }, 20s)) << v1.error();
  RawRtsp raw(srv.port());
  RtspReply r = raw.request(setup_play(srv.url("/l") + "/stream=0", 1));
  EXPECT_EQ(r.status, 453) << r.text;
  EXPECT_NE(r.text.find("max-viewers (1) reached on /l"), std::string::npos) << r.text;
  Viewer v2(srv.url("/m"), "udp");
  ASSERT_TRUE(wait_until([&] { return v2.video_frames() >= 15; }, 20s)) << v2.error();
  RawRtsp raw2(srv.port());
  r = raw2.request(setup_play(srv.url("/m") + "/stream=0", 1));
  EXPECT_EQ(r.status, 453) << r.text;
  EXPECT_NE(r.text.find("server max-viewers (2)"), std::string::npos) << r.text;
  // Nothing else is disturbed.
  unsigned f1 = v1.video_frames(), f2 = v2.video_frames();
  EXPECT_TRUE(wait_until([&] { return v1.video_frames() > f1 + 15 && v2.video_frames() > f2 + 15; },
                         10s));
}

TEST(PublishLimits, MaxPublishers) {
  auto srv = server_with("[server]\nmax-publishers=1\n[path /live/*]\npublish=true\n");
  ASSERT_TRUE(srv.ready());
  Child a(ffmpeg_publisher(srv.url("/live/a"), "tcp", 60, false, "160x120"));
  ASSERT_TRUE(published(srv, "/live/a"));
  RawRtsp raw(srv.port());
  RtspReply r = raw.request(announce(srv.url("/live/b"), h264_sdp(), 1));
  EXPECT_EQ(r.status, 453) << r.text;
  EXPECT_NE(r.text.find("max-publishers (1) reached"), std::string::npos) << r.text;
  EXPECT_TRUE(a.running());
}

}  // namespace
}  // namespace gms::test

namespace gms::test {
namespace {

// A viewer joining a running path gets its first key frame at once instead
// of after up to one key-frame interval (2 s here), over UDP and TCP; with
// gop-cache=false it waits for the publisher's next key frame.
double median_first_key(ServerProcess& srv, const std::string& path, bool tcp, int joins) {
  std::vector<double> ms;
  for (int i = 0; i < joins; ++i) {
    FirstKey k = measure_first_key(srv.port(), srv.url(path), tcp, 5000);
    EXPECT_TRUE(k.ok) << path << (tcp ? " tcp " : " udp ") << i << ": " << k.error;
    if (k.ok)
      ms.push_back(k.ms);
    g_usleep(150000 + 97000 * i % 400000);  // spread the joins over the GOP
  }
  std::sort(ms.begin(), ms.end());
  return ms.empty() ? 1e9 : ms[ms.size() / 2];
}

TEST(PublishInstantStart, LateJoinerStartsAtCachedKeyFrame) {
  auto srv = ServerProcess({"-v", write_temp_file("p.conf",
                                                  "[path /gop]\npublish=true\n"
                                                  "[path /nogop]\npublish=true\ngop-cache=false\n")});
  ASSERT_TRUE(srv.ready());
  auto pub = [&](const std::string& path) {
    auto a = ffmpeg_publisher(srv.url(path), "tcp", 60, false, "320x240");
    auto g = std::find(a.begin(), a.end(), "-g");
    *(g + 1) = "60";  // a key frame every 2 s
    return a;
  };
  Child a(pub("/gop")), b(pub("/nogop"));
  ASSERT_TRUE(published(srv, "/gop") && published(srv, "/nogop")) << srv.log();
  // A first viewer keeps each media running: the others join it late.
  Viewer va(srv.url("/gop"), "udp"), vb(srv.url("/nogop"), "udp");
  ASSERT_TRUE(wait_until([&] { return va.video_frames() >= 10 && vb.video_frames() >= 10; }, 20s))
      << va.video_frames() << " " << va.error() << " / " << vb.video_frames() << " " << vb.error()
      << srv.log();
  double tcp_ms = median_first_key(srv, "/gop", true, 6);
  double udp_ms = median_first_key(srv, "/gop", false, 6);
  double none_ms = median_first_key(srv, "/nogop", true, 6);
  RecordProperty("first_key_tcp_median_ms", std::to_string(tcp_ms));
  RecordProperty("first_key_udp_median_ms", std::to_string(udp_ms));
  EXPECT_LT(tcp_ms, 150) << "tcp";
  EXPECT_LT(udp_ms, 150) << "udp";
  EXPECT_GT(none_ms, 200) << "without the cache a join waits for the next key frame";
  printf("first key frame, median of 6 joins: cache tcp %.1f ms, udp %.1f ms; no cache tcp %.1f ms\n",
         tcp_ms, udp_ms, none_ms);
  EXPECT_EQ(va.error(), "");
}

}  // namespace
}  // namespace gms::test
