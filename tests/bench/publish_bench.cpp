// Publishing benchmark: one 1280x720 30 fps H.264 ~3 Mbit/s stream published
// with RECORD (ffmpeg, stream copy of a clip encoded once, so the encoder
// does not share the CPU with the server), fanned out to N viewers over UDP
// and then N over TCP. Prints per phase: packets lost per viewer, the
// server's CPU per viewer, and PLAY → first key frame (p50/p95) for viewers
// joining a running path with the GOP cache at a 2 s key-frame interval.
//
// Then the same viewers on a stock gst-rtsp-server relay of the same stream,
// in the same run, for comparison (memory per viewer too).
//
//   build/tests/publish_bench [VIEWERS] [SECONDS] [publish|proxy|burst|burst-tcp|slope|slope-tcp] [nostock]
//   (default 1000 viewers, 15 s, viewers on the publish path, with the stock relay)
// burst: a join storm instead: GMS_BENCH_WATCHERS (100) viewers watch, then
// VIEWERS more send their PLAY at the same moment (UDP, or TCP with
// burst-tcp); loss of both, counted for the joiners from their first key
// frame, and PLAY to first key frame.
// slope, slope-tcp: VIEWERS is a list of counts ("400,1600"); RSS and CPU
// with each, and their slopes (per viewer, without the base).
// GMS_BENCH_SERVER_PREFIX (e.g. "chrt --idle 0": the server runs only when
// nothing else wants the CPU, a machine busy by moments) prefixes the
// servers' command lines.
// GMS_BENCH_SERVER="PORT PID": measure a server started by hand (under a
// heap profiler, say) that has `--publish '/live/*'`; the bench publishes
// /live/bench to it and reads PID's CPU and memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "child.h"
#include "join_burst.h"
#include "first_key.h"
#include "load_client.h"
#include "process.h"
#include "publish_raw.h"

using namespace gms::test;
using Clock = std::chrono::steady_clock;

// The server's last word on its relay queues dropping packets, if any.
void queue_warnings(const ServerProcess* srv) {
  if (!srv)
    return;  // started by hand: its log is its own
  std::string log = srv->log();
  auto at = log.rfind("queue is full");
  if (at == std::string::npos) {
    printf("server log: no relay queue overrun\n");
    return;
  }
  auto start = log.rfind('\n', at);
  auto end = log.find('\n', at);
  printf("server log: %s\n", log.substr(start == std::string::npos ? 0 : start + 1,
                                        end == std::string::npos ? std::string::npos : end - start - 1)
                                 .c_str());
}

void report(const PhaseResult& r, bool tcp, const char* who, double stream_rate) {
  const char* proto = tcp ? "TCP" : "UDP";
  printf("%s, %s: %.0f packets/s per viewer (slowest %.0f; the stream sends ~%.0f); %u other "
         "viewers joined and left meanwhile\n",
         who, proto, r.pkt_rate, r.min_rate, stream_rate, r.churned);
  printf("%s, %s: %u viewers started; packets lost %llu of %llu (%u viewers with loss); server "
         "CPU %.1f %% of a core, %.3f %% per viewer (live555 reference ~0.125 %%); %.0f KiB per "
         "viewer; load client CPU %.0f %%\n",
         who, proto, r.started, (unsigned long long)r.lost, (unsigned long long)r.expected,
         r.viewers_with_loss, r.cpu_total, r.cpu_per_viewer, r.kb_per_viewer, r.client_cpu);
  fflush(stdout);
  g_usleep(2 * G_USEC_PER_SEC);
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  unsigned n = argc > 1 ? unsigned(std::atoi(argv[1])) : 1000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 15;
  std::string mode = argc > 3 ? argv[3] : "publish";  // publish | proxy
  bool with_stock = !(argc > 4 && std::string(argv[4]) == "nostock");
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return 1;
  }
  std::vector<std::string> prefix;
  if (const char* p = g_getenv("GMS_BENCH_SERVER_PREFIX")) {
    GStrv words = g_strsplit(p, " ", -1);
    for (GStrv w = words; *w; ++w)
      if (**w)
        prefix.push_back(*w);
    g_strfreev(words);
  }
  std::optional<ServerProcess> own;
  Target ours{};
  if (const char* ext = g_getenv("GMS_BENCH_SERVER")) {
    unsigned port = 0;
    int server_pid = 0;
    if (sscanf(ext, "%u %d", &port, &server_pid) != 2) {
      fprintf(stderr, "GMS_BENCH_SERVER: \"PORT PID\"\n");
      return 1;
    }
    ours = Target{uint16_t(port), "rtsp://127.0.0.1:" + std::to_string(port) + "/live/bench",
                  GPid(server_pid)};
  } else {
    own.emplace(std::vector<std::string>{"--publish", "/live/*",
                                         write_temp_file("bench.conf", "[server]\nmax-sessions=5000\n")},
                true, 0, prefix);
    if (!own->ready()) {
      fprintf(stderr, "server did not start\n%s", own->log().c_str());
      return 1;
    }
    ours = Target{own->port(), own->url("/live/bench"), own->pid()};
  }
  const std::string published = ours.url;
  GPid pid = ours.pid;
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
             "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", published});
  if (!wait_published(ours.port, published)) {
    fprintf(stderr, "publisher did not start\n%s%s", own ? own->log().c_str() : "",
            pub.output().c_str());
    return 1;
  }
  // "proxy": the viewers watch a second gst-mediaserver proxying the path
  // (one back-end session): the proxy's fan-out.
  std::unique_ptr<ServerProcess> proxy;
  if (mode == "proxy") {
    proxy = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--proxy", published,
        write_temp_file("proxy.conf", "[server]\nmax-sessions=5000\n")});
    if (!proxy->ready()) {
      fprintf(stderr, "proxy did not start\n%s", proxy->log().c_str());
      return 1;
    }
    ours = Target{proxy->port(), proxy->url("/proxyStream"), proxy->pid()};
    pid = ours.pid;
    ViewerConn warm;  // the proxy connects to its back end at the first viewer
    start_viewer(warm, ours.port, ours.url, true);
    g_usleep(3 * G_USEC_PER_SEC);
    close(warm.rtsp);
  }
  // Idle: publisher only.
  double c0 = process_cpu_seconds(pid);
  auto t0 = Clock::now();
  g_usleep(5 * G_USEC_PER_SEC);
  double idle = 100.0 * (process_cpu_seconds(pid) - c0) / std::chrono::duration<double>(Clock::now() - t0).count();
  printf("publish_bench: 1280x720 30 fps H.264 3 Mbit/s, %u viewers per phase, %d s measured, "
         "viewers on the %s\n",
         n, seconds, mode == "proxy" ? "proxy (--proxy in front of the publish path)" : "publish path");
  printf("server CPU with the publisher only: %.1f %% of a core\n", idle);

  if (mode == "burst" || mode == "burst-tcp") {
    bool tcp = mode == "burst-tcp";
    const char* w = g_getenv("GMS_BENCH_WATCHERS");
    unsigned watchers = w ? unsigned(std::atoi(w)) : 100;
    BurstResult b = run_burst(ours, watchers, n, tcp, seconds);
    printf("join storm, %s: %u watching, %u PLAY at once, %d s counted; watchers lost %llu of %llu "
           "(%u with loss or nothing), %.0f packets/s each, longest wait %.0f ms; joiners lost %llu of %llu after their first key frame (%llu of them came "
           "in the next 5 s; %u with loss, %u without a key frame); %llu joiners' packets came over 200 ms "
           "after a newer one (%u joiners); PLAY -> first key frame p50 %.0f ms, p95 %.0f ms, "
           "max %.0f ms; kernel UDP receive-buffer drops %llu; server CPU %.1f %% of a core\n",
           tcp ? "TCP" : "UDP", b.watchers, b.joiners, seconds,
           (unsigned long long)b.watcher_lost, (unsigned long long)b.watcher_expected,
           b.watchers_with_loss, b.watcher_rate, b.watcher_max_wait_ms,
           (unsigned long long)b.joiner_lost,
           (unsigned long long)b.joiner_expected, (unsigned long long)b.joiner_late, b.joiners_with_loss, b.joiners_without_key,
           (unsigned long long)b.joiner_overtaken, b.joiners_overtaken,
           b.key_p50_ms, b.key_p95_ms, b.key_max_ms, (unsigned long long)b.kernel_drops,
           b.cpu_total);
    queue_warnings(own ? &*own : nullptr);
    return 0;
  }
  if (mode == "slope" || mode == "slope-tcp") {
    // Memory and CPU per viewer as slopes between viewer counts (the first
    // argument, comma-separated, ascending), one transport, no churn: what a
    // viewer adds, without the base the first ones bring.
    bool tcp = mode == "slope-tcp";
    std::vector<unsigned> counts;
    GStrv parts = g_strsplit(argv[1], ",", -1);
    for (GStrv p = parts; *p; ++p)
      if (std::atoi(*p) > 0)
        counts.push_back(unsigned(std::atoi(*p)));
    g_strfreev(parts);
    std::vector<PhaseResult> rs;
    for (unsigned c : counts) {
      PhaseResult r = run_phase(ours, c, tcp, seconds, idle, false);
      printf("slope, %s, %u viewers: RSS %ld KiB with them (%ld before); server CPU %.1f %% of a "
             "core, %.3f ms per viewer-second; packets lost %llu of %llu; %.0f packets/s per "
             "viewer (slowest %.0f); load client CPU %.0f %%\n",
             tcp ? "TCP" : "UDP", r.started, r.rss_with_viewers_kb, r.rss_before_kb, r.cpu_total,
             r.cpu_per_viewer * 10.0, (unsigned long long)r.lost, (unsigned long long)r.expected,
             r.pkt_rate, r.min_rate, r.client_cpu);
      fflush(stdout);
      rs.push_back(r);
      g_usleep(2 * G_USEC_PER_SEC);
    }
    for (size_t i = 1; i < rs.size(); ++i) {
      double dn = double(rs[i].started) - double(rs[i - 1].started);
      if (dn <= 0)
        continue;
      printf("slope, %s, %u -> %u viewers: %.1f KiB per viewer (RSS), %.3f ms CPU per "
             "viewer-second\n",
             tcp ? "TCP" : "UDP", rs[i - 1].started, rs[i].started,
             double(rs[i].rss_with_viewers_kb - rs[i - 1].rss_with_viewers_kb) / dn,
             10.0 * (rs[i].cpu_total - rs[i - 1].cpu_total) / dn);
    }
    queue_warnings(own ? &*own : nullptr);
    return 0;
  }
  // Instant start: joins to a running path (a UDP viewer keeps it running).
  {
    std::vector<double> ms;
    ViewerConn keep;
    start_viewer(keep, ours.port, ours.url, false);
    for (int i = 0; i < 20; ++i) {
      FirstKey k = measure_first_key(ours.port, ours.url, i % 2 == 0, 5000);
      if (k.ok)
        ms.push_back(k.ms);
      g_usleep(130000 + (i * 71000) % 300000);
    }
    std::sort(ms.begin(), ms.end());
    if (!ms.empty())
      printf("PLAY -> first key frame (GOP cache, 2 s GOP, %zu joins TCP+UDP): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
             ms.size(), ms[ms.size() / 2], ms[std::min(ms.size() - 1, size_t(ms.size() * 0.95))],
             ms.back());
    close(keep.rtsp);
    close(keep.udp);
  }
  // The stream's own rate, seen by one UDP viewer.
  double stream_rate = 0;
  {
    PhaseResult one = run_phase(ours, 1, false, 5, idle, false);
    stream_rate = one.pkt_rate;
  }
  for (bool tcp : {false, true})
    report(run_phase(ours, n, tcp, seconds, idle), tcp, "gst-mediaserver", stream_rate);
  queue_warnings(proxy ? proxy.get() : own ? &*own : nullptr);

  if (!with_stock)
    return 0;
  // The same stream through a stock gst-rtsp-server relay (a shared launch
  // line: rtspsrc ! depay ! parse ! pay, its own tee/appsink/multiudpsink
  // fan-out), same viewers, same run.
  ServerProcess stock({"--mount", "/stock=rtspsrc location=" + published +
                                      " latency=0 ! rtph264depay ! h264parse ! "
                                      "rtph264pay name=pay0 pt=96 config-interval=-1",
                       write_temp_file("stock.conf", "[server]\nmax-sessions=5000\n")});
  if (!stock.ready()) {
    fprintf(stderr, "stock relay did not start\n%s", stock.log().c_str());
    return 1;
  }
  Target theirs{stock.port(), stock.url("/stock"), stock.pid()};
  {
    ViewerConn keep;  // keeps the relay's back end running while idle is measured
    start_viewer(keep, theirs.port, theirs.url, false);
    g_usleep(2 * G_USEC_PER_SEC);
    double s0 = process_cpu_seconds(theirs.pid);
    auto s_t0 = Clock::now();
    g_usleep(3 * G_USEC_PER_SEC);
    double stock_idle = 100.0 * (process_cpu_seconds(theirs.pid) - s0) /
                        std::chrono::duration<double>(Clock::now() - s_t0).count();
    close(keep.rtsp);
    close(keep.udp);
    for (bool tcp : {false, true})
      report(run_phase(theirs, n, tcp, seconds, stock_idle), tcp, "stock gst-rtsp-server relay",
             stream_rate);
  }
  return 0;
}
