// File viewers at scale: N TCP-interleaved viewers of one 1280x720 30 fps
// ~3 Mbit/s H.264 MP4 (the bench clip copied to 200 s), each with its own
// pipeline and position (they join one after the other). Prints the
// server's CPU per viewer-second (from /proc/PID/stat, minus the idle
// server's), resident memory added per viewer, threads added per viewer,
// and packets lost.
//
//   build/tests/file_viewers [VIEWERS=100] [SECONDS=20] [FILE]
//
// FILE: serve that MP4 instead of encoding the clip (to rerun quickly).
// GMS_BENCH_SERVER="PORT PID [PATH]": measure a server started by hand
// (with other settings, say) that serves the file at PATH (/clip.mp4).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "child.h"
#include "load_client.h"
#include "process.h"

using namespace gms::test;

namespace {

long threads_of(GPid pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::strtol(line.c_str() + 8, nullptr, 10);
  return 0;
}

std::string make_file(const std::string& given, std::string& dir) {
  gms::GCharPtr d(g_dir_make_tmp("gms-file-viewers-XXXXXX", nullptr));
  dir = d.get();
  std::string out = dir + "/clip.mp4";
  if (!given.empty()) {
    // A hard link: the root serves nothing that points outside it.
    if (link(given.c_str(), out.c_str()) != 0)
      return "";
    return out;
  }
  std::string why;
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "cannot encode the clip: %s\n", why.c_str());
    return "";
  }
  RunResult made = run({"ffmpeg", "-v", "error", "-stream_loop", "9", "-i", clip, "-c", "copy", out},
                       std::chrono::seconds(120));
  return made.exit_status == 0 ? out : "";
}

}  // namespace

int main(int argc, char** argv) {
  unsigned n = argc > 1 ? unsigned(std::atoi(argv[1])) : 100;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::string given = argc > 3 ? argv[3] : "";
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  std::optional<ServerProcess> own;
  Target t{};
  if (const char* ext = g_getenv("GMS_BENCH_SERVER")) {
    unsigned port = 0;
    int pid = 0;
    char path[256] = "/clip.mp4";
    if (sscanf(ext, "%u %d %255s", &port, &pid, path) < 2)
      return 1;
    t = {uint16_t(port), "rtsp://127.0.0.1:" + std::to_string(port) + path, GPid(pid)};
  } else {
    std::string dir;
    std::string file = make_file(given, dir);
    if (file.empty())
      return 1;
    // Every viewer has a pipeline of its own: no max-pipelines cap.
    own.emplace(std::vector<std::string>{
        "--root", dir, write_temp_file("files.conf",
                                      "[server]\nmax-sessions=5000\nmax-pipelines=0\n")});
    if (!own->ready()) {
      fprintf(stderr, "the server did not start\n%s", own->log_tail().c_str());
      return 1;
    }
    t = {own->port(), own->url("/clip.mp4"), own->pid()};
  }
  const GPid server = t.pid;
  // One viewer first: the file is probed and mounted, the idle figures after.
  double file_rate = run_phase(t, 1, true, 2, 0, false).pkt_rate;
  g_usleep(G_USEC_PER_SEC);
  long threads_idle = threads_of(server);
  double c0 = process_cpu_seconds(server);
  g_usleep(3 * G_USEC_PER_SEC);
  double idle = 100.0 * (process_cpu_seconds(server) - c0) / 3.0;
  long threads_busy = 0;
  PhaseWindow window;
  std::thread counter([&] {
    while (window.end == 0) {
      if (window.start != 0 && threads_busy == 0)
        threads_busy = threads_of(server);
      g_usleep(100000);
    }
  });
  PhaseResult r = run_phase(t, n, true, seconds, idle, false, &window);
  counter.join();
  double per_viewer_ms = r.cpu_per_viewer * 10.0;  // 1 % of a core = 10 ms per second
  printf("viewers %u of %u started, %d s counted, idle server %.2f %% of a core\n", r.started, n,
         seconds, idle);
  printf("server CPU %.1f %% of a core: %.2f ms per viewer-second\n", r.cpu_total, per_viewer_ms);
  // Under heavy load from elsewhere the server falls behind and sends less:
  // its CPU per packet delivered, at the file's packet rate, still compares.
  double delivered = r.pkt_rate * r.started;
  if (delivered > 0)
    printf("per packet delivered: %.2f us; at the file's %.0f packets/s: %.2f ms per "
           "viewer-second\n",
           1e4 * (r.cpu_total - idle) / delivered, file_rate,
           10.0 * (r.cpu_total - idle) / delivered * file_rate);
  printf("RSS %ld -> %ld KiB: %.0f KiB per viewer\n", r.rss_before_kb, r.rss_with_viewers_kb,
         r.kb_per_viewer);
  printf("threads %ld idle, %ld with viewers: %.1f per viewer\n", threads_idle, threads_busy,
         r.started ? double(threads_busy - threads_idle) / r.started : 0.0);
  printf("packets lost %llu of %llu (%u viewers with loss), slowest %.0f/s, mean %.0f/s\n",
         (unsigned long long)r.lost, (unsigned long long)r.expected, r.viewers_with_loss,
         r.min_rate, r.pkt_rate);
  printf("load client CPU %.1f %% of a core\n", r.client_cpu);
  if (own)
    own->stop();
  return 0;
}
