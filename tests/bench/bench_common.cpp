#include <chrono>
#include <cstdlib>

#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "scenarios.h"

namespace gms::test {

bool wait_describable(uint16_t port, const std::string& url, unsigned timeout_ms) {
  return wait_until(
      [&] {
        RawRtsp c(port);
        return c.connected() && c.request(describe(url, 1), std::chrono::seconds(5)).status == 200;
      },
      std::chrono::milliseconds(timeout_ms));
}

double cpu_percent_over(int pid, double seconds) {
  double c0 = process_cpu_seconds(pid);
  auto t0 = std::chrono::steady_clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  wait_until([&] { return std::chrono::steady_clock::now() >= end; },
             std::chrono::milliseconds(int(seconds * 1000) + 1000));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 100.0 * (process_cpu_seconds(pid) - c0) / wall;
}

std::vector<std::string> clip_publisher(const std::string& clip, const std::string& url) {
  return {"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
          "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", url};
}

std::vector<unsigned> counts_from_env(const char* name, std::vector<unsigned> fallback) {
  const char* v = g_getenv(name);
  if (!v || !*v)
    return fallback;
  std::vector<unsigned> out;
  GStrvPtr parts(g_strsplit(v, ",", -1));
  for (gchar** p = parts.get(); *p; ++p)
    if (unsigned n = unsigned(std::atoi(*p)))
      out.push_back(n);
  return out.empty() ? fallback : out;
}

}  // namespace gms::test
