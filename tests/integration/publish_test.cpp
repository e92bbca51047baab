// Publishing with real clients: ffmpeg and rtspclientsink publish (RECORD),
// in-process rtspsrc viewers, gst-launch-1.0 and ffprobe read.
#include <gtest/gtest.h>

#include "child.h"
#include "process.h"
#include "publish_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

TEST(Publish, FfmpegTcpToUdpAndTcpViewers) {
  ServerProcess srv({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 30, true));
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("publishing /live/cam (2 tracks)"); }, 15s))
      << srv.log() << pub.output();
  ASSERT_TRUE(wait_published(srv, "/live/cam"));
  Viewer udp(srv.url("/live/cam"), "udp");
  Viewer tcp(srv.url("/live/cam"), "tcp");
  EXPECT_TRUE(wait_until(
      [&] {
        return udp.video_frames() >= 30 && tcp.video_frames() >= 30 && udp.audio_buffers() >= 10 &&
               tcp.audio_buffers() >= 10;
      },
      20s))
      << "udp " << udp.video_frames() << "/" << udp.audio_buffers() << " tcp "
      << tcp.video_frames() << "/" << tcp.audio_buffers() << " " << udp.error() << tcp.error()
      << "\n" << srv.log_tail(40);
  EXPECT_EQ(udp.width(), 320);
  EXPECT_EQ(tcp.height(), 240);
  EXPECT_EQ(udp.error(), "");
  EXPECT_EQ(tcp.error(), "");
  EXPECT_FALSE(udp.pts_went_back());
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name,width,height", "-of", "compact", srv.url("/live/cam")},
                    20s);
  EXPECT_NE(r.out.find("codec_name=h264|width=320|height=240"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("codec_name=opus"), std::string::npos) << r.out;
}

TEST(Publish, FfmpegUdpPublisher) {
  ServerProcess srv({"--publish", "/cam"});
  ASSERT_TRUE(srv.ready());
  Child pub(ffmpeg_publisher(srv.url("/cam"), "udp", 30));
  RunResult r;
  ASSERT_TRUE(wait_until(
      [&] {
        r = run({"gst-launch-1.0", "-q", "rtspsrc", "location=" + srv.url("/cam"),
                 "protocols=tcp", "latency=100", "!", "rtph264depay", "!", "h264parse", "!",
                 "avdec_h264", "!", "fakesink", "num-buffers=30"},
                20s);
        return r.exit_status == 0;
      },
      30s))
      << r.err << r.out << srv.log() << pub.output();
}

TEST(Publish, RtspclientsinkPublishes) {
  ServerProcess srv({"--publish", "/live/*"});
  ASSERT_TRUE(srv.ready());
  Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc",
             "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!",
             "rtspclientsink", "location=" + srv.url("/live/gst"), "protocols=tcp"});
  // The viewer may come before the publisher: retry until it plays.
  std::unique_ptr<Viewer> viewer;
  ASSERT_TRUE(wait_until(
      [&] {
        if (!viewer || !viewer->error().empty())
          viewer = std::make_unique<Viewer>(srv.url("/live/gst"), "tcp");
        return viewer->video_frames() >= 30;
      },
      30s))
      << srv.log() << pub.output();
  EXPECT_EQ(viewer->width(), 160);
}

}  // namespace
}  // namespace gms::test

namespace gms::test {
namespace {

// Every codec of the brief, published by ffmpeg (RTP as ffmpeg makes it) and
// read back by ffprobe through the relay: the viewers' SDP is the one the
// publisher announced.
struct CodecCase {
  const char* name;
  std::vector<std::string> input, codec;
  const char* probe;  // codec_name ffprobe reports
};

TEST(Publish, CodecsPassThrough) {
  ServerProcess srv({"--publish", "/live/*"});
  ASSERT_TRUE(srv.ready());
  const std::vector<std::string> video = {"-f", "lavfi", "-i", "testsrc=size=160x120:rate=15:duration=30"};
  const std::vector<std::string> audio = {"-f", "lavfi", "-i", "sine=sample_rate=48000:duration=30"};
  const std::vector<std::string> audio8k = {"-f", "lavfi", "-i", "sine=sample_rate=8000:duration=30"};
  std::vector<CodecCase> cases = {
      {"h265", video, {"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none"}, "hevc"},
      {"aac", audio, {"-c:a", "aac", "-b:a", "64k"}, "aac"},
      {"opus", audio, {"-c:a", "libopus"}, "opus"},
      {"pcmu", audio8k, {"-c:a", "pcm_mulaw"}, "pcm_mulaw"},
      {"pcma", audio8k, {"-c:a", "pcm_alaw"}, "pcm_alaw"},
      {"mjpeg", video, {"-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-huffman", "default"}, "mjpeg"},
      {"vp8", video, {"-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k"}, "vp8"},
      {"vp9", video, {"-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "300k", "-strict", "experimental"}, "vp9"},
      // Relayed as sent, though nothing here depayloads them: MP3 (MPA, a
      // static type), L16, L24, and an encoding with no name we know at a
      // dynamic type (G726-32). (ffmpeg 5.1 announces AC-3 and L8 without
      // an rtpmap, which no viewer could use: AC-3 comes from GStreamer
      // below.)
      {"mp3", audio, {"-c:a", "libmp3lame", "-b:a", "64k"}, "mp3"},
      {"l16", audio, {"-c:a", "pcm_s16be"}, "pcm_s16be"},
      {"l24", audio, {"-c:a", "pcm_s24be"}, "pcm_s24be"},
      {"g726", audio8k, {"-c:a", "g726", "-b:a", "32k"}, "adpcm_g726"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re"};
    args.insert(args.end(), c.input.begin(), c.input.end());
    args.insert(args.end(), c.codec.begin(), c.codec.end());
    std::string path = std::string("/live/") + c.name;
    args.insert(args.end(), {"-f", "rtsp", "-rtsp_transport", "tcp", srv.url(path)});
    Child pub(args);
    if (!wait_published(srv, path, 15000)) {
      ADD_FAILURE() << c.name << ": not published\n" << pub.output() << srv.log();
      continue;
    }
    RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                       "stream=codec_name", "-of", "compact", srv.url(path)},
                      20s);
    EXPECT_NE(r.out.find(std::string("codec_name=") + c.probe), std::string::npos)
        << c.name << ": " << r.out << r.err;
  }
  Child ac3({"gst-launch-1.0", "-q", "audiotestsrc", "is-live=true", "!",
             "audio/x-raw,rate=48000,channels=2", "!", "avenc_ac3", "!", "ac3parse", "!",
             "rtspclientsink", "location=" + srv.url("/live/ac3"), "protocols=tcp"});
  ASSERT_TRUE(wait_published(srv, "/live/ac3", 15000)) << ac3.output() << srv.log();
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "compact", srv.url("/live/ac3")},
                    20s);
  EXPECT_NE(r.out.find("codec_name=ac3"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace gms::test
