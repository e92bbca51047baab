// Bad publishers: broken or refused
// SDP, RECORD without SETUP, garbage RTP, a publisher that sends nothing,
// one that sends faster than real time. Each gets its error or is cut off
// with a log line; viewers of other paths see nothing of it. Then many
// publishers and viewers at once, and frame counts end to end.
#include <gtest/gtest.h>

#include <algorithm>

#include "child.h"
#include "first_key.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "stuck_viewer.h"
#include "viewer.h"

namespace gms::test {
namespace {

// A server with a healthy path /ok watched by a viewer during each case.
struct Watched {
  ServerProcess srv;
  Child pub;
  std::unique_ptr<Viewer> viewer;
  explicit Watched(std::vector<std::string> args)
      : srv(std::move(args)), pub(ffmpeg_publisher(srv.url("/live/ok"), "tcp", 90, false, "160x120")) {}
  bool start() {
    if (!wait_published(srv, "/live/ok"))
      return false;
    viewer = std::make_unique<Viewer>(srv.url("/live/ok"), "udp");
    return wait_until([&] { return viewer->video_frames() >= 15; }, 20s);
  }
  // The healthy viewer keeps receiving.
  bool still_fine() {
    unsigned before = viewer->video_frames();
    return wait_until([&] { return viewer->video_frames() >= before + 30; }, 10s) &&
           viewer->error().empty() && !viewer->got_eos();
  }
};

TEST(PublishFaults, RefusedAnnounces) {
  Watched w({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(w.start()) << w.srv.log();
  std::string many;
  {
    many = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n";
    for (int i = 0; i < 20; ++i)
      many += "m=audio 0 RTP/AVP 0\r\na=control:streamid=" + std::to_string(i) + "\r\n";
  }
  struct Case {
    std::string name, sdp;
    int status;
  } cases[] = {
      {"empty", "", 400},
      {"garbage", "this is not an SDP at all", 400},
      {"no media", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n", 400},
      {"X-QDM static", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 3\r\n"
                       "a=rtpmap:3 X-QDM/44100\r\n", 415},
      {"clock rate 0", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
                       "a=rtpmap:96 H264/0\r\n", 400},
      {"20 tracks", many, 400},
  };
  for (const auto& c : cases) {
    RawRtsp raw(w.srv.port());
    RtspReply r = raw.request(announce(w.srv.url("/live/bad"), c.sdp, 1));
    EXPECT_EQ(r.status, c.status) << c.name << "\n" << r.text;
  }
  EXPECT_TRUE(w.srv.log_contains("ANNOUNCE /live/bad refused (415): media 0: encoding X-QDM"))
      << w.srv.log();
  // RECORD without SETUP: no session.
  RawRtsp raw(w.srv.port());
  RtspReply r = raw.request(announce(w.srv.url("/live/nosetup"), h264_sdp(), 1));
  EXPECT_EQ(r.status, 200) << r.text;
  r = raw.request(record(w.srv.url("/live/nosetup"), "", 2));
  EXPECT_EQ(r.status, 454) << r.text;
  EXPECT_TRUE(w.still_fine()) << w.srv.log();
}

TEST(PublishFaults, GarbageRtpAndWrongPayloadType) {
  Watched w({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(w.start()) << w.srv.log();
  RawRtsp raw(w.srv.port());
  std::string url = w.srv.url("/live/junk");
  ASSERT_EQ(raw.request(announce(url, h264_sdp(), 1)).status, 200);
  RtspReply s = raw.request(setup_record(url + "/streamid=0", 2));
  ASSERT_EQ(s.status, 200) << s.text;
  std::string session = session_id(s.header("Session"));
  ASSERT_EQ(raw.request(record(url, session, 3)).status, 200);
  std::string junk;
  for (int i = 0; i < 300; ++i) {
    junk += interleaved(0, std::string(40 + i % 200, char(i)));                     // not RTP
    junk += interleaved(0, rtp_packet(31, uint16_t(i), i * 3000, 42, "\x65xxxx"));  // wrong PT
    junk += interleaved(0, std::string(3, 'x'));                                    // too short
    junk += interleaved(0, rtp_packet(96, uint16_t(i), i * 3000, 42, std::string("\x1c\x05", 2)));
  }
  EXPECT_TRUE(raw.send(junk));
  EXPECT_TRUE(w.still_fine()) << w.srv.log();
}

TEST(PublishFaults, SilentPublisherIsCutOff) {
  Watched w({"-v", write_temp_file("p.conf", "[path /live/*]\npublish=true\npublisher-timeout=1\n")});
  ASSERT_TRUE(w.start()) << w.srv.log();
  RawRtsp raw(w.srv.port());
  std::string url = w.srv.url("/live/silent");
  ASSERT_EQ(raw.request(announce(url, h264_sdp(), 1)).status, 200);
  RtspReply s = raw.request(setup_record(url + "/streamid=0", 2));
  ASSERT_EQ(s.status, 200) << s.text;
  ASSERT_EQ(raw.request(record(url, session_id(s.header("Session")), 3)).status, 200);
  EXPECT_TRUE(wait_until([&] { return w.srv.log_contains("/live/silent: publisher cut off: sent nothing"); },
                         10s))
      << w.srv.log();
  // The connection is closed: a read returns nothing.
  EXPECT_EQ(raw.read_reply(3s).status, 0);
  // And the path is free for a real publisher.
  Child pub(ffmpeg_publisher(url, "tcp", 30, false, "160x120"));
  EXPECT_TRUE(wait_until([&] { return w.srv.log_contains("publishing /live/silent"); }, 15s));
  EXPECT_TRUE(w.still_fine());
}

TEST(PublishFaults, FasterThanRealTimeIsCutOff) {
  Watched w({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(w.start()) << w.srv.log();
  // No -re: ffmpeg sends 60 s of video as fast as it can encode.
  Child fast(ffmpeg_publisher(w.srv.url("/live/fast"), "tcp", 60, false, "160x120", false));
  EXPECT_TRUE(wait_until(
      [&] { return w.srv.log_contains("/live/fast: publisher cut off: the producer sends faster"); },
      20s))
      << w.srv.log();
  EXPECT_TRUE(w.still_fine());
}

TEST(PublishLoad, TenPublishersFiveViewersEach) {
  ServerProcess srv({"--publish", "/live/*"});
  ASSERT_TRUE(srv.ready());
  std::vector<std::unique_ptr<Child>> pubs;
  for (int i = 0; i < 10; ++i)
    pubs.push_back(std::make_unique<Child>(ffmpeg_publisher(
        srv.url("/live/p" + std::to_string(i)), i % 2 ? "udp" : "tcp", 60, false, "160x120")));
  for (int p = 0; p < 10; ++p)
    ASSERT_TRUE(wait_published(srv, "/live/p" + std::to_string(p))) << p << srv.log();
  std::vector<std::unique_ptr<Viewer>> viewers;
  for (int p = 0; p < 10; ++p)
    for (int j = 0; j < 5; ++j)
      viewers.push_back(
          std::make_unique<Viewer>(srv.url("/live/p" + std::to_string(p)), j % 2 ? "udp" : "tcp"));
  EXPECT_TRUE(wait_until(
      [&] {
        for (auto& v : viewers)
          if (v->video_frames() < 30)
            return false;
        return true;
      },
      60s))
      << srv.log();
  for (size_t k = 0; k < viewers.size(); ++k)
    EXPECT_GE(viewers[k]->video_frames(), 30u) << "viewer " << k;
}

// The first UDP viewer of a path that only a TCP viewer watched so far: the
// stream had no UDP sink until that viewer's PLAY made it, so the viewer was
// not held out of it, got no cached key frame, and was yet told by RTP-Info
// to expect the key frame's packets (a player then waited for the next key
// frame, 2 s here, and counted the GOP as lost). Two paths, so that a join
// just before a key frame cannot pass by chance.
TEST(PublishLoad, FirstUdpViewerAfterATcpOneGetsTheKeyFrameAtOnce) {
  auto conf = write_temp_file("p.conf", "[path /a]\npublish=true\n[path /b]\npublish=true\n");
  ServerProcess srv({"-v", conf});
  ASSERT_TRUE(srv.ready());
  for (const char* path : {"/a", "/b"}) {
    Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
               "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc",
               "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=60", "!",
               "rtspclientsink", "location=" + srv.url(path), "protocols=tcp"});
    ASSERT_TRUE(wait_published(srv, path)) << srv.log();
    Viewer first(srv.url(path), "tcp");
    ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 10; }, 20s)) << first.error();
    FirstKey k = measure_first_key(srv.port(), srv.url(path), false, 5000);
    ASSERT_TRUE(k.ok) << path << ": " << k.error << srv.log();
    EXPECT_LT(k.ms, 300.0) << path << ": the UDP viewer waited for the next key frame";
    std::printf("%s: first UDP viewer after a TCP one, first key frame %.1f ms after PLAY\n", path,
                k.ms);
  }
  EXPECT_FALSE(srv.log_contains("no RTP sink found")) << srv.log();
}

TEST(PublishLoad, FrameCountsMatch) {
  auto conf = write_temp_file("p.conf", "[path /count]\npublish=true\nwait-publisher=20\npublisher-timeout=1\n");
  ServerProcess srv({"-v", conf});
  ASSERT_TRUE(srv.ready());
  // Two viewers wait for the publisher, then get every frame it sends.
  Viewer a(srv.url("/count"), "tcp");
  Viewer b(srv.url("/count"), "udp");
  g_usleep(500000);
  RunResult pub = run({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=150", "!",
                       "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc",
                       "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!",
                       "rtspclientsink", "location=" + srv.url("/count"), "protocols=tcp"},
                      30s);
  EXPECT_TRUE(wait_until([&] { return a.got_eos() && b.got_eos(); }, 10s)) << srv.log();
  // The last frame may be lost: gst-rtsp-server stops the RECORD pipeline
  // when the TEARDOWN arrives, with the publisher's last packets still
  // queued in it (rtspclientsink sends TEARDOWN right after its last frame);
  // on a loaded machine, two.
  EXPECT_GE(a.video_frames(), 148u);
  EXPECT_LE(a.video_frames(), 150u);
  EXPECT_GE(b.video_frames(), 148u);  // UDP
  EXPECT_LE(b.video_frames(), 150u);
  // On a loaded machine rtspclientsink 1.22 can end badly after its last
  // frame, its own doing: its rtpsession has sent the RTCP BYE but holds
  // the end of stream for 5 to 11 s, silent (then publisher-timeout cuts it
  // off, and its reconnect ends in "Parse error"), or its CLOSE flushes the
  // connection under its own PAUSE (after our 200 to its TEARDOWN). With
  // every frame through, those exits are the client's; any other fails.
  const bool cut_when_done = srv.log_contains("publisher cut off: sent nothing");
  const bool own_race = pub.err.find("gst_rtsp_client_sink_pause") != std::string::npos;
  if (pub.exit_status != 0 && (cut_when_done || own_race) && a.video_frames() >= 148)
    std::printf("publisher exit %d after its last frame (%s)\n", pub.exit_status,
                cut_when_done ? "silent, cut off" : "PAUSE/CLOSE race");
  else
    EXPECT_EQ(pub.exit_status, 0) << pub.err;
}

}  // namespace
}  // namespace gms::test

namespace gms::test {
namespace {

// A TCP viewer that stops reading (its socket buffers fill) must not stop
// the publisher or a UDP viewer of the same path (the stock server, as
// measured, stalled every viewer ~10 s after such a viewer).
TEST(PublishFaults, StuckTcpViewerDoesNotStallOthers) {
  ServerProcess srv({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(srv.ready());
  auto args = ffmpeg_publisher(srv.url("/live/s"), "tcp", 90, false, "640x480");
  auto out = std::find(args.rbegin(), args.rend(), "-f").base() - 1;
  args.insert(out, {"-b:v", "6M", "-minrate", "6M", "-maxrate", "6M", "-bufsize", "2M"});
  Child pub(args);
  ASSERT_TRUE(wait_published(srv, "/live/s")) << pub.output();
  Viewer udp(srv.url("/live/s"), "udp");
  ASSERT_TRUE(wait_until([&] { return udp.video_frames() >= 15; }, 20s)) << udp.error();
  // A TCP viewer with a 4 KB receive buffer that never reads.
  StuckTcpViewer stuck(srv.port(), srv.url("/live/s"));
  ASSERT_TRUE(stuck.ok()) << stuck.error();
  // Never read again. Watch the UDP viewer for 30 s, in 5 s slices.
  for (int i = 0; i < 6; ++i) {
    unsigned before = udp.video_frames();
    EXPECT_TRUE(wait_until([&] { return udp.video_frames() >= before + 100; }, 5s))
        << "slice " << i << ": " << before << " -> " << udp.video_frames();
  }
  EXPECT_TRUE(pub.running());
}

}  // namespace
}  // namespace gms::test
