// Latency a relay of an RTSP back end adds: the origin is gst-mediaserver
// with ffmpeg publishing the 3 Mbit/s clip; gst-mediaserver's --proxy and
// the stock program's shared launch line `rtspsrc latency=0 ! rtph264depay !
// h264parse ! rtph264pay` relay it. One in-process viewer on each of the
// three notes when each payload arrives; relay arrival minus origin arrival
// is the added latency. Measured idle, then with 100 UDP viewers on each
// relay at once. Where live555ProxyServer is on PATH it relays the origin
// too (its /proxyStream), measured the same way (its rows' live555 column).
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "arrivals.h"
#include "bench_results.h"
#include "child.h"
#include "load_client.h"
#include "process.h"
#include "scenarios.h"
#include "stock_process.h"

namespace gms::test {
namespace {

// n UDP viewers on the relay; the main context keeps running meanwhile.
PhaseResult crowd_phase(const Target& t, unsigned n, int seconds, PhaseWindow& w) {
  PhaseResult r;
  std::atomic<bool> done{false};
  std::thread th([&] {
    r = run_phase(t, n, false, seconds, 0, false, &w);
    done = true;
  });
  wait_until([&] { return done.load(); }, std::chrono::seconds(seconds + 300));
  th.join();
  return r;
}

}  // namespace

int bench_proxy() {
  const bool full = bench_full();
  const int seconds = full ? 20 : 10;
  const unsigned crowd = counts_from_env("GMS_BENCH_PROXY_VIEWERS", {100}).front();
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  ServerProcess origin({"--publish", "/live/*"});
  Child pub(clip_publisher(clip, origin.url("/live/bench")));
  if (!origin.ready() || !wait_describable(origin.port(), origin.url("/live/bench"))) {
    fprintf(stderr, "origin did not start\n%s%s", origin.log_tail().c_str(), pub.output().c_str());
    return 1;
  }
  ServerProcess proxy({"--proxy", origin.url("/live/bench"),
                       write_temp_file("proxy.conf", "[server]\nmax-sessions=5000\n")});
  StockServer stock({"relay", "/relay",
                     "rtspsrc location=" + origin.url("/live/bench") +
                         " latency=0 ! rtph264depay ! h264parse ! rtph264pay name=pay0 pt=96 "
                         "config-interval=-1 mtu=1472"});
  if (!proxy.ready() || !stock.ready()) {
    fprintf(stderr, "a relay did not start\n%s%s", proxy.log_tail().c_str(), stock.log().c_str());
    return 1;
  }
  std::unique_ptr<Child> live;
  Target t_live{free_port(), "", 0};
  t_live.url = "rtsp://127.0.0.1:" + std::to_string(t_live.port) + "/proxyStream";
  if (GCharPtr exe{g_find_program_in_path("live555ProxyServer")}) {
    live = std::make_unique<Child>(std::vector<std::string>{
        exe.get(), "-p", std::to_string(t_live.port), origin.url("/live/bench")});
    if (!wait_describable(t_live.port, t_live.url, 10000)) {
      fprintf(stderr, "live555ProxyServer did not relay: %s\n", live->output().c_str());
      live.reset();
    }
  }
  Target t_ours{proxy.port(), proxy.url("/proxyStream"), proxy.pid()};
  Target t_stock{stock.port(), stock.url("/relay"), stock.pid()};
  ArrivalViewer v_origin(origin.url("/live/bench"), "udp");
  ArrivalViewer v_ours(t_ours.url, "udp");
  ArrivalViewer v_stock(t_stock.url, "udp");
  std::unique_ptr<ArrivalViewer> v_live;
  if (live)
    v_live = std::make_unique<ArrivalViewer>(t_live.url, "udp");
  // Settle (connections, first key frame), then the idle window.
  wait_until([] { return false; }, std::chrono::seconds(3));
  gint64 idle_from = g_get_monotonic_time();
  wait_until([] { return false; }, std::chrono::seconds(seconds));
  gint64 idle_to = g_get_monotonic_time();
  // One relay's crowd at a time, each window its own.
  PhaseWindow w_ours, w_stock;
  PhaseResult r_ours = crowd_phase(t_ours, crowd, seconds, w_ours);
  PhaseResult r_stock = crowd_phase(t_stock, crowd, seconds, w_stock);
  PhaseWindow w_live;
  PhaseResult r_live;
  if (live)
    r_live = crowd_phase(t_live, crowd, seconds, w_live);
  BenchResults out("proxy");
  printf("proxy: 1280x720 30 fps 3 Mbit/s H.264 back end, UDP viewers, %d s per window\n", seconds);
  auto idle_o = v_ours.delays_after(v_origin, idle_from, idle_to);
  auto idle_s = v_stock.delays_after(v_origin, idle_from, idle_to);
  auto load_o = v_ours.delays_after(v_origin, w_ours.start, w_ours.end);
  auto load_s = v_stock.delays_after(v_origin, w_stock.start, w_stock.end);
  std::vector<double> idle_l, load_l;
  if (v_live) {
    idle_l = v_live->delays_after(v_origin, idle_from, idle_to);
    load_l = v_live->delays_after(v_origin, w_live.start, w_live.end);
  }
  // live555's figure for a row, when it ran.
  auto l = [&](const std::vector<double>& d, double p) -> std::optional<double> {
    if (!live)
      return std::nullopt;
    return quantile(d, p);
  };
  auto n = [](const std::vector<double>& o, const std::vector<double>& s) {
    return "payloads ours " + std::to_string(o.size()) + ", stock " + std::to_string(s.size());
  };
  out.add({"added latency p50, idle", "ms", true, quantile(idle_o, 0.5), quantile(idle_s, 0.5),
           n(idle_o, idle_s), l(idle_l, 0.5)});
  out.add({"added latency p99, idle", "ms", true, quantile(idle_o, 0.99), quantile(idle_s, 0.99),
           "", l(idle_l, 0.99)});
  std::string with = ", " + std::to_string(crowd) + " viewers";
  out.add({"added latency p50" + with, "ms", true, quantile(load_o, 0.5), quantile(load_s, 0.5),
           n(load_o, load_s), l(load_l, 0.5)});
  out.add({"added latency p99" + with, "ms", true, quantile(load_o, 0.99), quantile(load_s, 0.99),
           "", l(load_l, 0.99)});
  auto loss = [](const PhaseResult& r) {
    return r.expected ? 100.0 * double(r.lost) / double(r.expected) : 100.0;
  };
  out.add({"packets lost" + with, "%", true, loss(r_ours), loss(r_stock),
           "started ours " + std::to_string(r_ours.started) + ", stock " +
               std::to_string(r_stock.started),
           live ? std::optional<double>(loss(r_live)) : std::nullopt});
  out.add({"sequence gaps" + with, "count", true, double(r_ours.gaps), double(r_stock.gaps), ""});
  out.add({"relay CPU" + with, "% of a core", true, r_ours.cpu_total, r_stock.cpu_total, ""});
  return out.write() && !idle_o.empty() && !idle_s.empty() ? 0 : 1;
}

}  // namespace gms::test
