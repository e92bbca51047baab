// Timestamps that go backwards while a TCP viewer is backlogged (E06b).
// gst-rtsp-server 1.22 asserts that the RTP buffers it queues for a TCP
// viewer that cannot keep up carry a DTS (or PTS) that never goes back
// (`g_assert (queue_duration >= 0)` in its backlog): a publisher whose
// timestamps jump back, come in B-frame order or stand still, or a B-frame
// stream relayed through a proxy, while such a viewer is stuck, would abort
// the server. A viewer that never reads (stuck_viewer.h) and viewers that
// read watch a raw publisher bending its RTP times, then ffmpeg's B-frame
// H.264 through a proxied path: the server must live and the others go on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child.h"
#include "packet_viewer.h"
#include "process.h"
#include "publish_raw.h"
#include "rtp_publisher.h"
#include "stuck_viewer.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

class BacklogFaults : public testing::Test {
 protected:
  void start(const std::string& conf, uint16_t port = 0) {
    srv_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{write_temp_file("backlog.conf", "[server]\nverbose=1\n" + conf)},
        true, port);
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  }
  void TearDown() override {
    if (srv_) {
      EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }
  // The server's end of `stuck` holds over 1 MB unsent and no more than a
  // second ago: its socket is full, and what comes for it now waits in
  // gst-rtsp-server's backlog. Within 20 s.
  bool backlogged(const StuckTcpViewer& stuck, size_t& unsent) {
    size_t second_ago = 0;
    return wait_until(
        [&] {
          second_ago = unsent;
          g_usleep(G_USEC_PER_SEC);
          unsent = stuck.server_unsent(srv_->port());
          return unsent > (1u << 20) && unsent < second_ago + (64u << 10);
        },
        20s);
  }
  // `n` more decoded pictures within `timeout`.
  static bool pictures(const Viewer& v, unsigned n, std::chrono::milliseconds timeout) {
    const unsigned from = v.video_frames();
    return wait_until([&] { return v.video_frames() >= from + n; }, timeout);
  }

  std::unique_ptr<ServerProcess> srv_;
};

// A picture with `fillers` filler units of 1400 bytes before it (12: about
// 450 KB/s at 25 pictures a second), so that a viewer that does not read
// stays backlogged; the timestamp then moves by `step` frames.
Pacer::Tick heavy_frames(std::function<int64_t(unsigned)> step, int fillers = 12) {
  const std::string filler = std::string(1, '\x0c') + std::string(1399, '\xff');
  return [filler, fillers, step = std::move(step), n = 0u](RtpPublisher& pub) mutable {
    std::vector<std::string> packets;
    for (int i = 0; i < fillers; ++i)
      packets.push_back(rtp_packet(96, pub.seq++, pub.ts, pub.ssrc, filler, false));
    auto f = pub.frame();
    packets.insert(packets.end(), f.begin(), f.end());
    pub.ts = uint32_t(int64_t(pub.ts) + step(n++) * int64_t(kFrameTicks));
    return pub.send(packets);
  };
}

// A raw publisher's RTP times jump back, come in B-frame order, stand
// still, go back and forth every picture, and jump by -2^31, about 2 s
// each, while one viewer of the path is stuck and two read.
TEST_F(BacklogFaults, BackwardTimestampsWithAStuckTcpViewer) {
  ASSERT_GE(h264_key_frame().size(), 3u) << "ffmpeg made no key frame";
  ASSERT_NO_FATAL_FAILURE(start("session-timeout=30\n[path /live/*]\npublish=true\n"));
  RtpPublisher pub(*srv_, "/live/ts", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  Pacer pacer(pub, heavy_frames([](unsigned) { return 1; }));
  // (A DESCRIBE as the media of the one before goes can get 503: the
  // library's race, README B05.)
  std::unique_ptr<PacketViewer> owned;
  ASSERT_TRUE(wait_until(
      [&] {
        owned = std::make_unique<PacketViewer>(srv_->port(), srv_->url("/live/ts"));
        return owned->ok() || (g_usleep(200000), false);
      },
      20s))
      << srv_->log_tail();
  PacketViewer& reader = *owned;
  ASSERT_TRUE(reader.flowing()) << reader.state() << "\n" << srv_->log_tail();
  Viewer udp(srv_->url("/live/ts"), "udp");
  ASSERT_TRUE(pictures(udp, 10, 20s)) << udp.state() << srv_->log_tail();
  StuckTcpViewer stuck(srv_->port(), srv_->url("/live/ts"));
  ASSERT_TRUE(stuck.ok()) << stuck.error();
  // Its socket buffers fill (the kernel lets a loopback sender's grow to 4
  // MB): 2.2 MB/s until what the server's end holds unsent stops growing;
  // what comes for it then waits in gst-rtsp-server's backlog, where the
  // timestamps are checked.
  pacer.set(heavy_frames([](unsigned) { return 1; }, 64));
  size_t unsent = 0;
  ASSERT_TRUE(backlogged(stuck, unsent)) << unsent << " bytes unsent\n" << srv_->log_tail();

  struct Case {
    const char* name;
    std::function<int64_t(unsigned)> step;  // frames to move after picture n
  };
  const std::vector<Case> cases = {
      {"10 s back", [](unsigned n) { return n == 0 ? -250 : 1; }},
      // I P B B: presentation order 0 3 1 2, 6 4 5 …
      {"B-frame order", [](unsigned n) { return std::vector<int64_t>{3, -2, 1, 4}[n % 4]; }},
      {"standing still", [](unsigned) { return 0; }},
      {"back and forth", [](unsigned n) { return n % 2 ? 26 : -24; }},
      {"-2^31 ticks", [](unsigned n) { return n == 0 ? -int64_t(0x80000000u / kFrameTicks) : 1; }},
  };
  std::string report;
  for (const auto& c : cases) {
    const unsigned packets0 = reader.packets(), pictures0 = udp.video_frames();
    pacer.set(heavy_frames(c.step));
    g_usleep(2 * G_USEC_PER_SEC);
    ASSERT_TRUE(srv_->alive()) << c.name << "\n" << srv_->log_tail();
    report += std::string(c.name) + ": " + std::to_string(reader.packets() - packets0) +
              " packets, " + std::to_string(udp.video_frames() - pictures0) + " pictures; ";
  }
  pacer.set(heavy_frames([](unsigned) { return 1; }));
  std::printf("E06b: while a TCP viewer was stuck (%zu bytes unsent to it, %zu at the end): %s\n",
              unsent, stuck.server_unsent(srv_->port()), report.c_str());
  EXPECT_TRUE(reader.flowing(100, 10s)) << reader.state() << "\n" << srv_->log_tail();
  EXPECT_EQ(reader.gaps(), 0u) << reader.state();
  EXPECT_TRUE(pictures(udp, 25, 10s)) << udp.state() << srv_->log_tail();
  EXPECT_FALSE(pacer.failed()) << srv_->log_tail();
  ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
}

// ffmpeg's H.264 with two B-frames between references, published and
// proxied by another path of the same server: the proxied path's packets
// carry their B-frame order to a stuck TCP viewer and a decoding one.
TEST_F(BacklogFaults, BFramesThroughAProxyWithAStuckTcpViewer) {
  const uint16_t port = free_port();
  ASSERT_NO_FATAL_FAILURE(start("[path /live/*]\npublish=true\n[path /prox]\nproxy=rtsp://127.0.0.1:" +
                                    std::to_string(port) + "/live/bf\non-demand=true\n",
                                port));
  // 8 Mbit/s constant (filler units make up the rate), so that the stuck
  // viewer's socket fills within seconds.
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
             "testsrc=size=320x240:rate=30:duration=60", "-c:v", "libx264", "-preset", "veryfast",
             "-bf", "2", "-g", "30", "-b:v", "8M", "-minrate", "8M", "-maxrate", "8M", "-bufsize",
             "1M", "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p", "-f", "rtsp",
             "-rtsp_transport", "tcp", srv_->url("/live/bf")});
  ASSERT_TRUE(wait_published(*srv_, "/live/bf")) << pub.output() << srv_->log_tail();
  // The stream does have B-frames.
  RunResult probe = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v",
                         "-read_intervals", "%+#40", "-show_entries", "frame=pict_type", "-of",
                         "csv=p=0", srv_->url("/live/bf")},
                        30s);
  const auto b_frames = std::count(probe.out.begin(), probe.out.end(), 'B');
  EXPECT_GE(b_frames, 5) << probe.out << probe.err;
  Viewer tcp(srv_->url("/prox"), "tcp");
  ASSERT_TRUE(pictures(tcp, 15, 20s)) << tcp.state() << srv_->log_tail();
  StuckTcpViewer stuck(srv_->port(), srv_->url("/prox"));
  ASSERT_TRUE(stuck.ok()) << stuck.error();
  size_t unsent = 0;
  ASSERT_TRUE(backlogged(stuck, unsent)) << unsent << " bytes unsent\n" << srv_->log_tail();
  // 15 s more: the stuck viewer's backlog passes gst-rtsp-server's 10 s.
  unsigned seen = 0;
  for (int slice = 0; slice < 3; ++slice) {
    const unsigned before = tcp.video_frames();
    EXPECT_TRUE(pictures(tcp, 75, 5s)) << "slice " << slice << ": " << tcp.state() << "\n"
                                        << srv_->log_tail();
    seen += tcp.video_frames() - before;
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
  }
  std::printf("E06b: %ld B-frames in the first 40 pictures; the proxied path's TCP viewer decoded "
              "%u pictures in 15 s beside a stuck one (%zu bytes unsent to it)\n",
              long(b_frames), seen, unsent);
  EXPECT_FALSE(tcp.got_eos() || !tcp.error().empty()) << tcp.state();
  EXPECT_TRUE(pub.running()) << pub.output();
}

}  // namespace
}  // namespace gms::test
