// RTCP sender reports on every kind of live path, read by real clients: each
// report maps its track's RTP time to the wall clock at which the packets
// were sent (within 50 ms), the tracks of one source agree with each other,
// and ffmpeg, which re-bases its timeline on the first report, reads as much
// media as it asked for. (A relayed path's reports map RTP time to when the
// source captured the media, plus the server pipeline's fixed 20 ms: with the
// low-latency sources here, that is when the packets go out.)
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <sstream>

#include "child.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "sender_reports.h"

namespace gms::test {
namespace {

constexpr double kMaxOffsetMs = 50;

// Every report of every track fits its packets; returns each track's
// offsets (ms) for the cross-track check.
std::vector<std::vector<double>> check_reports(const SrCapture& c, size_t tracks) {
  std::vector<std::vector<double>> offsets;
  std::cerr << describe(c);  // the figures, for the log
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.tracks.size(), tracks) << describe(c);
  for (const auto& t : c.tracks) {
    offsets.emplace_back();
    EXPECT_GE(t.reports.size(), 1u) << t.media << "\n" << describe(c);
    for (const auto& r : t.reports) {
      SrFit f = fit_report(c, t, r);
      if (!f.ok)
        continue;  // a report before the live packets: nothing to compare
      offsets.back().push_back(f.offset_ms);
      EXPECT_LT(std::fabs(f.offset_ms), kMaxOffsetMs) << t.media << "\n" << describe(c);
    }
    EXPECT_FALSE(offsets.back().empty()) << t.media << ": no report to check\n" << describe(c);
  }
  return offsets;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x;
  return v.empty() ? 0 : s / double(v.size());
}

// Audio and video of one source: their reports put their packets at the
// same distance from the wall clock (what lip sync rests on).
void check_tracks_agree(const std::vector<std::vector<double>>& offsets, const SrCapture& c) {
  ASSERT_EQ(offsets.size(), 2u);
  if (offsets[0].empty() || offsets[1].empty())
    return;  // already reported
  EXPECT_LT(std::fabs(mean(offsets[0]) - mean(offsets[1])), kMaxOffsetMs) << describe(c);
}

struct FfmpegRead {
  int exit_status = -1;
  long frames = 0;
  double media_s = 0;  // ffmpeg's output time
  double wall_s = 0;
  std::string err;
};

// `ffmpeg -rtsp_transport tcp -i URL -t SECONDS -f null -`, its progress
// read from -progress (the last frame= and out_time_us=).
FfmpegRead ffmpeg_read(const std::string& url, int seconds) {
  FfmpegRead f;
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport",
                     "tcp", "-i", url, "-t", std::to_string(seconds), "-f", "null", "-progress",
                     "pipe:1", "-"},
                    std::chrono::seconds(seconds + 30));
  f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.exit_status = r.exit_status;
  f.err = r.err;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("frame=", 0) == 0)
      f.frames = std::atol(line.c_str() + 6);
    else if (line.rfind("out_time_us=", 0) == 0)
      f.media_s = double(std::atoll(line.c_str() + 12)) / 1e6;
  }
  return f;
}

// 15 s of a 30 fps stream: about 450 frames over about 15 s of wall time
// (a timeline that leaps ends -t early, with a few seconds of frames).
void check_reads_15s(const std::string& url, const std::string& context) {
  FfmpegRead f = ffmpeg_read(url, 15);
  std::cerr << "ffmpeg -t 15: " << f.frames << " frames, " << f.media_s << " s of media in "
            << f.wall_s << " s\n";
  EXPECT_EQ(f.exit_status, 0) << f.err << context;
  EXPECT_GE(f.media_s, 14.5) << f.err << context;
  EXPECT_GE(f.frames, 400) << f.err << context;
  // Plus the cached key frame's group at the start; a leap that ffmpeg filled
  // with duplicates would count far more.
  EXPECT_LE(f.frames, 600) << f.err << context;
  EXPECT_GE(f.wall_s, 13.0) << "read faster than real time: the timeline leapt\n" << f.err;
}

TEST(SenderReports, PlainLaunchPath) {
  ServerProcess srv({"--mount", std::string("/o=") + kH264Opus});
  ASSERT_TRUE(srv.ready()) << srv.log();
  SrCapture c = capture_sender_reports(srv.port(), "/o", 9s);
  auto offsets = check_reports(c, 2);
  check_tracks_agree(offsets, c);
}

TEST(SenderReports, PublishedPath) {
  ServerProcess srv({"-v", "--publish", "/live/*"});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 60, true));
  ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log() << pub.output();
  SrCapture c = capture_sender_reports(srv.port(), "/live/cam", 9s);
  auto offsets = check_reports(c, 2);
  check_tracks_agree(offsets, c);
  check_reads_15s(srv.url("/live/cam"), srv.log_tail(20));
}

TEST(SenderReports, ProxiedPath) {
  ServerProcess origin({"--mount", std::string("/o=") + kH264Opus});
  ASSERT_TRUE(origin.ready()) << origin.log();
  ServerProcess proxy({"-v", "--proxy", origin.url("/o")});
  ASSERT_TRUE(proxy.ready()) << proxy.log();
  SrCapture c = capture_sender_reports(proxy.port(), "/proxyStream", 9s);
  auto offsets = check_reports(c, 2);
  check_tracks_agree(offsets, c);
  check_reads_15s(proxy.url("/proxyStream"), proxy.log_tail(20));
}

// A launch line that records is served through the relay too: its reports
// map RTP time to when the launch line captured the media.
TEST(SenderReports, RecordedLaunchPath) {
  GCharPtr dir(g_dir_make_tmp("gms-sr-XXXXXX", nullptr));
  ASSERT_TRUE(dir);
  std::string conf = write_temp_file("sr.conf", std::string("[server]\nverbose=1\nrecord-dir=") +
                                                    dir.get() + "\n[path /cam]\nlaunch=" +
                                                    kH264Opus + "\nrecord=true\n");
  {
    ServerProcess srv({conf});
    ASSERT_TRUE(srv.ready()) << srv.log();
    SrCapture c = capture_sender_reports(srv.port(), "/cam", 9s);
    auto offsets = check_reports(c, 2);
    check_tracks_agree(offsets, c);
  }
  run({"rm", "-rf", dir.get()}, 10s);
}

}  // namespace
}  // namespace gms::test
