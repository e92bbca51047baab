// Recording's cost: the published 3 Mbit/s clip with one TCP viewer, server
// CPU without and with recording. gst-mediaserver records with --record-dir
// (fragmented MP4 segments); the stock program's RECORD pipeline gets a
// `tee ! queue ! mp4mux fragment-duration=1000 ! filesink` branch. Each
// phase on a fresh server; phases alternate (ours, stock) per round.
#include <cstdio>
#include <memory>

#include "bench_results.h"
#include "child.h"
#include "process.h"
#include "scenarios.h"
#include "stock_process.h"

namespace gms::test {
namespace {

struct Cost {
  double cpu = -1;  // % of a core; -1: failed
  double mbit_s = 0;
};

uint64_t bytes_under(const std::string& dir) {
  RunResult r = run({"du", "-sb", dir}, std::chrono::seconds(10));
  return r.exit_status == 0 ? g_ascii_strtoull(r.out.c_str(), nullptr, 10) : 0;
}

// Publisher and viewer on a started server; CPU over `seconds` after settling.
Cost measure(const std::string& clip, uint16_t port, GPid pid, const std::string& pub_url,
             const std::string& view_url, const std::string& dir, int seconds) {
  Cost c;
  Child pub(clip_publisher(clip, pub_url));
  if (!wait_describable(port, view_url))
    return c;
  Child viewer({"gst-launch-1.0", "-q", "rtspsrc", "location=" + view_url, "protocols=tcp", "!",
                "fakesink"});
  wait_until([] { return false; }, std::chrono::seconds(4));
  uint64_t b0 = dir.empty() ? 0 : bytes_under(dir);
  auto t0 = std::chrono::steady_clock::now();
  c.cpu = cpu_percent_over(pid, seconds);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!dir.empty())
    c.mbit_s = double(bytes_under(dir) - b0) * 8 / 1e6 / wall;
  return c;
}

Cost ours_phase(const std::string& clip, bool record, int seconds) {
  std::vector<std::string> args = {"--publish", "/live/*"};
  std::string dir;
  if (record) {
    GCharPtr d(g_dir_make_tmp("gms-bench-rec-XXXXXX", nullptr));
    dir = d.get();
    args.insert(args.end(), {"--record-dir", dir});
  }
  ServerProcess srv(args);
  if (!srv.ready())
    return {};
  return measure(clip, srv.port(), srv.pid(), srv.url("/live/bench"), srv.url("/live/bench"), dir,
                 seconds);
}

Cost stock_phase(const std::string& clip, bool record, int seconds) {
  std::vector<std::string> args = {"publish"};
  std::string dir;
  if (record) {
    GCharPtr d(g_dir_make_tmp("gms-bench-rec-XXXXXX", nullptr));
    dir = d.get();
    args.push_back(dir + "/rec.mp4");
  }
  StockServer srv(args);
  if (!srv.ready())
    return {};
  return measure(clip, srv.port(), srv.pid(), srv.url("/pub"), srv.url("/live"), dir, seconds);
}

}  // namespace

int bench_record() {
  const bool full = bench_full();
  const int seconds = full ? 20 : 10;
  const int rounds = full ? 3 : 1;
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  double sum[2][2] = {{0, 0}, {0, 0}}, mbit[2] = {0, 0};  // [ours/stock][plain/recording]
  int ok = 0;
  for (int r = 0; r < rounds; ++r) {
    Cost c[2][2] = {{ours_phase(clip, false, seconds), stock_phase(clip, false, seconds)},
                    {ours_phase(clip, true, seconds), stock_phase(clip, true, seconds)}};
    if (c[0][0].cpu < 0 || c[0][1].cpu < 0 || c[1][0].cpu < 0 || c[1][1].cpu < 0) {
      fprintf(stderr, "round %d: a phase failed (%.1f %.1f %.1f %.1f)\n", r + 1, c[0][0].cpu,
              c[0][1].cpu, c[1][0].cpu, c[1][1].cpu);
      continue;
    }
    for (int side = 0; side < 2; ++side) {
      sum[side][0] += c[0][side].cpu;
      sum[side][1] += c[1][side].cpu;
      mbit[side] += c[1][side].mbit_s;
    }
    ++ok;
  }
  BenchResults out("record");
  if (ok == 0) {
    out.add({"recording", "", true, std::nullopt, std::nullopt, "every round failed"});
    out.write();
    return 1;
  }
  std::string note = std::to_string(ok) + " round(s) of " + std::to_string(seconds) + " s";
  out.add({"published stream + 1 TCP viewer: server CPU", "% of a core", true, sum[0][0] / ok,
           sum[1][0] / ok, note});
  out.add({"same + recording: server CPU", "% of a core", true, sum[0][1] / ok, sum[1][1] / ok, ""});
  out.add({"recording's own CPU (difference)", "% of a core", true, (sum[0][1] - sum[0][0]) / ok,
           (sum[1][1] - sum[1][0]) / ok, ""});
  out.add({"written to disk", "Mbit/s", false, mbit[0] / ok, mbit[1] / ok, ""});
  return out.write() ? 0 : 1;
}

}  // namespace gms::test
