// DESCRIBE cost of a media file, uncached (the file is probed, then its
// pipeline prerolled) and cached (probe result reused by path + identity;
// only the viewer's own pipeline is prerolled), for 1-hour files.
//   meson test -C build --benchmark describe -v     (prints the figures)
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

double describe_ms(const ServerProcess& srv, const std::string& path, int* status) {
  RawRtsp c(srv.port());
  auto t0 = std::chrono::steady_clock::now();
  RtspReply r = c.request("DESCRIBE " + srv.url(path) + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 60s);
  auto t1 = std::chrono::steady_clock::now();
  *status = r.status;
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST(Bench, DescribeCachedAndUncached) {
  GCharPtr d(g_dir_make_tmp("gms-bench-XXXXXX", nullptr));
  std::string dir = d.get();
  // One hour: 64x48 H.264 at 5 fps (key frame every 10 s) + AAC 8 kHz.
  RunResult made = run(
      {"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=18000", "!",
       "video/x-raw,width=64,height=48,framerate=5/1,format=I420", "!", "x264enc",
       "speed-preset=ultrafast", "key-int-max=50", "!", "h264parse", "!", "mp4mux", "name=m", "!",
       "filesink", "location=" + dir + "/hour.mp4", "audiotestsrc", "num-buffers=3600",
       "samplesperbuffer=8000", "!", "audio/x-raw,rate=8000,channels=1", "!", "avenc_aac", "!",
       "aacparse", "!", "m."},
      600s);
  ASSERT_EQ(made.exit_status, 0) << made.err;
  made = run({"ffmpeg", "-v", "error", "-i", dir + "/hour.mp4", "-c", "copy", dir + "/hour.mkv"},
             600s);
  ASSERT_EQ(made.exit_status, 0) << made.err;
  const int kRuns = 5;
  // Every name is another file for the cache (keyed by path): uncached runs.
  for (const char* ext : {"mp4", "mkv"})
    for (int i = 0; i < kRuns; ++i)
      ASSERT_EQ(link((dir + "/hour." + ext).c_str(),
                     (dir + "/hour" + std::to_string(i) + "." + ext).c_str()),
                0);
  ServerProcess srv({"-v", "--root", dir});
  ASSERT_TRUE(srv.ready());
  printf("\nDESCRIBE of a 1-hour file (%d runs each, median; server on this machine)\n", kRuns);
  printf("  %-6s %12s %12s %12s\n", "file", "uncached ms", "cached ms", "probe ms");
  for (const char* ext : {"mp4", "mkv"}) {
    std::vector<double> uncached, cached;
    for (int i = 0; i < kRuns; ++i) {
      int status = 0;
      uncached.push_back(
          describe_ms(srv, "/hour" + std::to_string(i) + "." + ext, &status));
      ASSERT_EQ(status, 200);
    }
    for (int i = 0; i < kRuns; ++i) {
      int status = 0;
      cached.push_back(describe_ms(srv, std::string("/hour0.") + ext, &status));
      ASSERT_EQ(status, 200);
    }
    // The server logs each probe: "file /hour0.mp4: … (probed in 12.3 ms)".
    std::vector<double> probes;
    std::regex re(std::string(R"(file /hour\d\.)") + ext + R"(: .* \(probed in ([0-9.]+) ms\))");
    std::string log = srv.log();
    for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it)
      probes.push_back(std::stod((*it)[1]));
    EXPECT_EQ(probes.size(), size_t(kRuns)) << "cached DESCRIBEs must not probe again";
    printf("  %-6s %12.1f %12.1f %12.1f\n", ext, median(uncached), median(cached), median(probes));
    EXPECT_LT(median(cached), median(uncached));
  }
  fflush(stdout);
}

}  // namespace
}  // namespace gms::test
