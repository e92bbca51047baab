// Fan-out of one published stream: ffmpeg publishes the 1280x720 30 fps
// 3 Mbit/s clip with RECORD to gst-mediaserver (/live/bench) and to the
// stock program (/pub, played from /live); N viewers (UDP, then TCP) watch
// each, the two servers' phases alternating so that load from elsewhere
// falls on both alike. Rows: loss, sequence gaps, CPU, memory per viewer
// (per phase and the slope over the viewer counts), PLAY to first key frame.
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <memory>
#include <utility>

#include "bench_results.h"
#include "child.h"
#include "first_key.h"
#include "load_client.h"
#include "process.h"
#include "scenarios.h"
#include "stock_process.h"

namespace gms::test {
namespace {

struct Side {
  Target target{0, "", 0};
  double idle_cpu = 0;
  ViewerConn keep;  // one viewer throughout: the stock play pipeline lives while it has one
  // viewers → RSS with them (KiB), per transport (for the slope)
  std::map<bool, std::vector<std::pair<double, double>>> rss;
};

std::optional<double> slope(const std::vector<std::pair<double, double>>& pts) {
  if (pts.size() < 2)
    return std::nullopt;
  double n = double(pts.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (auto [x, y] : pts) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double den = n * sxx - sx * sx;
  if (den == 0)
    return std::nullopt;
  return (n * sxy - sx * sy) / den;
}

std::vector<double> first_keys(const Target& t, unsigned joins) {
  std::vector<double> ms;
  for (unsigned i = 0; i < joins; ++i) {
    FirstKey k = measure_first_key(t.port, t.url, i % 2 == 0, 5000);
    if (k.ok)
      ms.push_back(k.ms);
    g_usleep(100000 + (i * 71000) % 300000);  // joins at different points of the GOP
  }
  return ms;
}

void phase_rows(BenchResults& out, unsigned n, bool tcp, const PhaseResult& a,
                const PhaseResult& b) {
  std::string what = "fan-out " + std::to_string(n) + (tcp ? " TCP" : " UDP") + " viewers: ";
  auto loss = [](const PhaseResult& r) {
    return r.expected ? 100.0 * double(r.lost) / double(r.expected) : 100.0;
  };
  auto note = [&](const PhaseResult& r) {
    return std::to_string(r.started) + "/" + std::to_string(n) + " started";
  };
  out.add({what + "packets lost", "%", true, loss(a), loss(b),
           "ours " + note(a) + ", stock " + note(b)});
  out.add({what + "sequence gaps", "count", true, double(a.gaps), double(b.gaps), ""});
  out.add({what + "server CPU", "% of a core", true, a.cpu_total, b.cpu_total, ""});
  out.add({what + "RSS added per viewer", "KiB", true, a.kb_per_viewer, b.kb_per_viewer, ""});
}

}  // namespace

int bench_fanout() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const bool full = bench_full();
  const auto counts = counts_from_env(
      "GMS_BENCH_VIEWERS", full ? std::vector<unsigned>{200, 400, 1000, 2000, 3000}
                                : std::vector<unsigned>{200, 400});
  const int seconds = full ? 15 : 8;
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  ServerProcess srv({"--publish", "/live/*",
                     write_temp_file("bench.conf", "[server]\nmax-sessions=10000\n")});
  StockServer stock({"publish"});
  if (!srv.ready() || !stock.ready()) {
    fprintf(stderr, "a server did not start\n%s\n%s", srv.log_tail().c_str(), stock.log().c_str());
    return 1;
  }
  Child pub_ours(clip_publisher(clip, srv.url("/live/bench")));
  Child pub_stock(clip_publisher(clip, stock.url("/pub")));
  Side ours, theirs;
  ours.target = Target{srv.port(), srv.url("/live/bench"), srv.pid()};
  theirs.target = Target{stock.port(), stock.url("/live"), stock.pid()};
  for (Side* s : {&ours, &theirs}) {
    // Retried: stock 1.22 can hand a DESCRIBE the shared media that the
    // previous connection's close is still unpreparing (503).
    bool playing = wait_describable(s->target.port, s->target.url) &&
                   wait_until([&] {
                     stop_viewer(s->keep, s->target.url);
                     return start_viewer(s->keep, s->target.port, s->target.url, false);
                   }, std::chrono::seconds(10));
    if (!playing) {
      fprintf(stderr, "%s: the published stream does not play\n%s%s%s", s->target.url.c_str(),
              srv.log_tail().c_str(), stock.log().c_str(), pub_stock.output().c_str());
      return 1;
    }
  }
  for (Side* s : {&ours, &theirs})
    s->idle_cpu = cpu_percent_over(s->target.pid, 3);
  BenchResults out("fanout");
  printf("fan-out: 1280x720 30 fps H.264 3 Mbit/s published by ffmpeg; viewers %s; %d s "
         "measured per phase\n",
         g_getenv("GMS_BENCH_VIEWERS") ? g_getenv("GMS_BENCH_VIEWERS") : "default", seconds);
  out.add({"publisher + 1 viewer: server CPU", "% of a core", true, ours.idle_cpu, theirs.idle_cpu,
           ""});
  unsigned joins = full ? 40 : 12;
  std::vector<double> k_ours, k_stock;
  for (unsigned i = 0; i < joins; i += 4) {  // alternate in small batches
    for (double v : first_keys(ours.target, 4))
      k_ours.push_back(v);
    for (double v : first_keys(theirs.target, 4))
      k_stock.push_back(v);
  }
  std::string kn = "joins ours " + std::to_string(k_ours.size()) + ", stock " +
                   std::to_string(k_stock.size()) + " of " + std::to_string(joins);
  out.add({"PLAY to first key frame p50 (2 s GOP)", "ms", true, quantile(k_ours, 0.5),
           quantile(k_stock, 0.5), kn});
  out.add({"PLAY to first key frame p95 (2 s GOP)", "ms", true, quantile(k_ours, 0.95),
           quantile(k_stock, 0.95), kn});
  for (unsigned n : counts)
    for (bool tcp : {false, true}) {
      PhaseResult a = run_phase(ours.target, n, tcp, seconds, ours.idle_cpu);
      g_usleep(G_USEC_PER_SEC);
      PhaseResult b = run_phase(theirs.target, n, tcp, seconds, theirs.idle_cpu);
      g_usleep(G_USEC_PER_SEC);
      phase_rows(out, n, tcp, a, b);
      // Absolute RSS with n viewers: memory an earlier phase freed stays in
      // the allocator and would hide in a difference against its start.
      ours.rss[tcp].push_back({double(n), double(a.rss_with_viewers_kb)});
      theirs.rss[tcp].push_back({double(n), double(b.rss_with_viewers_kb)});
    }
  for (bool tcp : {false, true})
    out.add({std::string("memory per viewer, RSS slope over the counts, ") + (tcp ? "TCP" : "UDP"),
             "KiB", true, slope(ours.rss[tcp]), slope(theirs.rss[tcp]), ""});
  stop_viewer(ours.keep, ours.target.url);
  stop_viewer(theirs.keep, theirs.target.url);
  return out.write() ? 0 : 1;
}

}  // namespace gms::test
