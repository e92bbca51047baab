// Files on demand: a 60 s 1280x720 3 Mbit/s H.264 MP4 served by
// gst-mediaserver (--root) and by the stock program (one factory per file,
// shared=FALSE, test-mp4 style). Sessions per second: 4 clients each run
// DESCRIBE, SETUP (TCP interleaved), PLAY, TEARDOWN in a loop. Concurrent
// viewers: steps of UDP viewers (doubling) until a step loses a packet or a
// viewer falls below 90 % of the file's packet rate; the largest step passed.
#include <cstdio>
#include <thread>

#include "bench_results.h"
#include "child.h"
#include "load_client.h"
#include "process.h"
#include "scenarios.h"
#include "stock_process.h"

namespace gms::test {
namespace {

struct Cycles {
  unsigned ok = 0, failed = 0;
  double per_second = 0;
};

Cycles session_rate(const Target& t, int seconds, unsigned clients) {
  std::atomic<unsigned> ok{0}, failed{0};
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        ViewerConn v;
        if (start_viewer(v, t.port, t.url, true) && teardown_and_wait(v, t.url)) {
          ok++;
        } else {
          stop_viewer(v, t.url);
          failed++;
        }
      }
    });
  for (auto& th : threads)
    th.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {ok.load(), failed.load(), double(ok.load()) / wall};
}

// The largest step of concurrent viewers that kept up with no loss (0: none).
unsigned max_clean_viewers(const Target& t, const std::vector<unsigned>& steps, double ref_rate,
                           std::string& note) {
  unsigned best = 0;
  for (unsigned n : steps) {
    PhaseResult r = run_phase(t, n, false, 6, 0, false);
    bool clean = r.started == n && r.lost == 0 && r.min_rate >= 0.9 * ref_rate;
    note += std::to_string(n) + (clean ? " ok" : " lost " + std::to_string(r.lost) + " slowest " +
                                                     std::to_string(int(r.min_rate)) + "/s") +
            "; ";
    if (!clean)
      break;
    best = n;
    g_usleep(G_USEC_PER_SEC);
  }
  return best;
}

}  // namespace

int bench_files() {
  const bool full = bench_full();
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  GCharPtr d(g_dir_make_tmp("gms-bench-files-XXXXXX", nullptr));
  std::string dir = d.get();
  RunResult made = run({"ffmpeg", "-v", "error", "-stream_loop", "2", "-i", clip, "-c", "copy",
                        dir + "/clip.mp4"},
                       std::chrono::seconds(120));
  if (made.exit_status != 0) {
    fprintf(stderr, "cannot make the file: %s\n", made.err.c_str());
    return 1;
  }
  // Every viewer has a pipeline of its own: no max-pipelines cap.
  ServerProcess srv({"--root", dir, write_temp_file("files.conf",
                                             "[server]\nmax-sessions=5000\nmax-pipelines=0\n")});
  StockServer stock({"files", dir});
  if (!srv.ready() || !stock.ready()) {
    fprintf(stderr, "a server did not start\n%s%s", srv.log_tail().c_str(), stock.log().c_str());
    return 1;
  }
  Target ours{srv.port(), srv.url("/clip.mp4"), srv.pid()};
  Target theirs{stock.port(), stock.url("/clip.mp4"), stock.pid()};
  BenchResults out("files");
  const int secs = full ? 20 : 8;
  Cycles a = session_rate(ours, secs, 4);
  Cycles b = session_rate(theirs, secs, 4);
  out.add({"DESCRIBE+SETUP+PLAY+TEARDOWN sessions per second (4 clients)", "1/s", false,
           a.per_second, b.per_second,
           "failed ours " + std::to_string(a.failed) + ", stock " + std::to_string(b.failed)});
  // The file's packet rate, seen by one viewer of each.
  double ref = std::max(run_phase(ours, 1, false, 4, 0, false).pkt_rate,
                        run_phase(theirs, 1, false, 4, 0, false).pkt_rate);
  std::vector<unsigned> steps =
      full ? std::vector<unsigned>{16, 32, 64, 128, 256} : std::vector<unsigned>{16, 32, 64};
  steps = counts_from_env("GMS_BENCH_FILE_VIEWERS", steps);
  std::string n_ours, n_stock;
  unsigned m_ours = max_clean_viewers(ours, steps, ref, n_ours);
  unsigned m_stock = max_clean_viewers(theirs, steps, ref, n_stock);
  out.add({"concurrent UDP file viewers at zero loss (largest step passed)", "viewers", false,
           double(m_ours), double(m_stock),
           "steps up to " + std::to_string(steps.back()) + "; ours: " + n_ours + "stock: " + n_stock});
  return out.write() && a.ok > 0 && b.ok > 0 ? 0 : 1;
}

}  // namespace gms::test
