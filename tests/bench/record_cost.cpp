// Recording cost benchmark: the server's CPU for one published 1280x720
// 30 fps H.264 ~3 Mbit/s stream (ffmpeg copying a clip encoded once) with one
// TCP viewer, first without recording, then with the path recorded
// (--record-dir, fragmented MP4, 60 s segments). Each phase runs on a fresh
// server; CPU is read from /proc/PID/stat over the measured seconds.
//
//   build/tests/record_cost [SECONDS] [ROUNDS]     (default 20 and 2)
#include <gst/gst.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "child.h"
#include "process.h"
#include "publish_raw.h"

using namespace gms::test;
using Clock = std::chrono::steady_clock;

namespace {

struct Phase {
  double cpu_percent = -1;  // of one core
  double written_mbit_s = 0;
};

uint64_t bytes_under(const std::string& dir) {
  RunResult r = run({"du", "-sb", dir}, std::chrono::seconds(10));
  return r.exit_status == 0 ? g_ascii_strtoull(r.out.c_str(), nullptr, 10) : 0;
}

Phase run_phase(const std::string& clip, bool record, int seconds) {
  Phase out;
  std::string dir;
  std::vector<std::string> args = {"-v", "--publish", "/live/*"};
  if (record) {
    gms::GCharPtr d(g_dir_make_tmp("gms-bench-rec-XXXXXX", nullptr));
    dir = d.get();
    args.insert(args.end(), {"--record-dir", dir});
  }
  ServerProcess srv(args);
  if (!srv.ready()) {
    fprintf(stderr, "server did not start\n%s", srv.log().c_str());
    return out;
  }
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
             "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", srv.url("/live/bench")});
  if (!wait_published(srv, "/live/bench")) {
    fprintf(stderr, "publisher did not start\n%s%s", srv.log().c_str(), pub.output().c_str());
    return out;
  }
  Child viewer({"gst-launch-1.0", "-q", "rtspsrc", "location=" + srv.url("/live/bench"),
                "protocols=tcp", "!", "fakesink"});
  // Settle: the viewer plays and (when recording) the first segment is open.
  if (record && !wait_until([&] { return srv.log_contains("recording /live/bench into"); },
                            std::chrono::seconds(10))) {
    fprintf(stderr, "recording did not start\n%s", srv.log().c_str());
    return out;
  }
  const auto settle = Clock::now() + std::chrono::seconds(3);
  wait_until([&] { return Clock::now() >= settle; }, std::chrono::seconds(5));
  const uint64_t b0 = record ? bytes_under(dir) : 0;
  const double c0 = process_cpu_seconds(srv.pid());
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::seconds(seconds);
  wait_until([&] { return Clock::now() >= end; }, std::chrono::seconds(seconds + 5));
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  out.cpu_percent = 100.0 * (process_cpu_seconds(srv.pid()) - c0) / wall;
  if (record)
    out.written_mbit_s = double(bytes_under(dir) - b0) * 8 / 1e6 / wall;
  if (!srv.alive())
    out.cpu_percent = -1;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 20;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 2;
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  printf("record_cost: 1280x720 30 fps H.264 3 Mbit/s published, 1 TCP viewer, %d s per phase\n",
         seconds);
  double sum_plain = 0, sum_rec = 0;
  int ok = 0;
  for (int r = 0; r < rounds; ++r) {
    // Alternate so that load from elsewhere falls on both alike.
    Phase plain = run_phase(clip, false, seconds);
    Phase rec = run_phase(clip, true, seconds);
    if (plain.cpu_percent < 0 || rec.cpu_percent < 0) {
      fprintf(stderr, "round %d failed\n", r + 1);
      continue;
    }
    printf("round %d: streaming %.1f %% of a core, streaming + recording %.1f %% (+%.1f), "
           "%.2f Mbit/s written\n",
           r + 1, plain.cpu_percent, rec.cpu_percent, rec.cpu_percent - plain.cpu_percent,
           rec.written_mbit_s);
    sum_plain += plain.cpu_percent;
    sum_rec += rec.cpu_percent;
    ++ok;
  }
  if (ok == 0)
    return 1;
  printf("mean: streaming %.1f %% of a core, streaming + recording %.1f %%: recording costs "
         "%.1f %% of a core\n",
         sum_plain / ok, sum_rec / ok, (sum_rec - sum_plain) / ok);
  return 0;
}
