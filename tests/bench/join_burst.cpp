#include "join_burst.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"

namespace gms::test {

namespace {

using Clock = std::chrono::steady_clock;

// RcvbufErrors of the host's UDP (/proc/net/snmp): datagrams the kernel
// dropped because a receiver's buffer was full.
uint64_t udp_rcvbuf_errors() {
  std::ifstream f("/proc/net/snmp");
  std::string names, values, line;
  while (std::getline(f, line)) {
    if (line.rfind("Udp:", 0) != 0)
      continue;
    if (names.empty())
      names = line;
    else
      values = line;
  }
  std::istringstream n(names), v(values);
  std::string name, value;
  while (n >> name && v >> value)
    if (name == "RcvbufErrors")
      return std::stoull(value);
  return 0;
}

struct Loss {
  uint64_t lost = 0, expected = 0;
  unsigned with_loss = 0, without = 0;
};

Loss count(const std::vector<std::unique_ptr<ViewerConn>>& vs) {
  Loss l;
  for (const auto& v : vs) {
    if (!v->seen.any) {
      l.without++;
      continue;
    }
    uint64_t exp = v->seen.expected();
    uint64_t lost = exp > v->seen.received ? exp - v->seen.received : 0;
    l.lost += lost;
    l.expected += exp;
    l.with_loss += lost ? 1 : 0;
  }
  return l;
}

// Sequence numbers from a keyed viewer's key frame up to `ext_end` that it
// has not received.
uint64_t missing_up_to(const Seen& s, uint32_t ext_end) {
  if (!s.keyed || !s.any || ext_end < s.first)
    return 0;
  uint64_t n = 0;
  for (uint64_t i = 0; i <= uint64_t(ext_end - s.first); ++i)
    n += (i >= s.got.size() || !s.got[i]) ? 1 : 0;
  return n;
}

void watch(int ep, ViewerConn& v, bool tcp) {
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.ptr = &v;
  epoll_ctl(ep, EPOLL_CTL_ADD, tcp ? v.rtsp : v.udp, &e);
}

void pump(int ep, bool tcp, double secs) {
  auto end = Clock::now() + std::chrono::duration<double>(secs);
  epoll_event events[256];
  do {
    int k = epoll_wait(ep, events, 256, secs > 0 ? 20 : 0);
    for (int i = 0; i < k; ++i) {
      auto* v = static_cast<ViewerConn*>(events[i].data.ptr);
      if (tcp)
        drain_tcp(*v);
      else
        drain_udp(*v);
    }
    if (secs <= 0 && k < 256)
      break;
  } while (Clock::now() < end);
}

}  // namespace

BurstResult run_burst(const Target& t, unsigned watchers, unsigned joiners, bool tcp, int seconds) {
  BurstResult r;
  int ep = epoll_create1(0);
  std::vector<std::unique_ptr<ViewerConn>> ws, js;
  for (unsigned i = 0; i < watchers; ++i) {
    auto v = std::make_unique<ViewerConn>();
    if (start_viewer(*v, t.port, t.url, tcp)) {
      watch(ep, *v, tcp);
      ws.push_back(std::move(v));
    }
    pump(ep, tcp, 0);
  }
  for (unsigned i = 0; i < joiners; ++i) {
    auto v = std::make_unique<ViewerConn>();
    if (setup_viewer(*v, t.port, t.url, tcp))
      js.push_back(std::move(v));
    pump(ep, tcp, 0);
  }
  r.watchers = unsigned(ws.size());
  r.joiners = unsigned(js.size());
  pump(ep, tcp, 2.0);
  for (auto& v : ws)
    v->seen = Seen{};
  uint64_t drops0 = udp_rcvbuf_errors();
  double c0 = process_cpu_seconds(t.pid);
  auto t0 = Clock::now();
  gint64 play_us = g_get_monotonic_time();
  // The storm: every PLAY at once, read from the next loop on.
  for (auto& v : js) {
    v->seen.need_key = true;
    watch(ep, *v, tcp);
    send_play(*v, t.url);
  }
  // GMS_BENCH_STACKS=FILE: the server's threads 1 s into the storm (gdb).
  if (const char* stacks = g_getenv("GMS_BENCH_STACKS")) {
    pump(ep, tcp, 1.0);
    std::string cmd = "sh -c 'gdb -p " + std::to_string(t.pid) +
                      " -batch -ex \"thread apply all bt 12\" > " + stacks + " 2>&1'";
    g_spawn_command_line_sync(cmd.c_str(), nullptr, nullptr, nullptr, nullptr);
    pump(ep, tcp, seconds - 1.0);
  } else {
    pump(ep, tcp, seconds);
  }
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu_total = 100.0 * (process_cpu_seconds(t.pid) - c0) / wall;
  r.kernel_drops = udp_rcvbuf_errors() - drops0;
  Loss w = count(ws), j = count(js);
  r.watcher_lost = w.lost;
  r.watcher_expected = w.expected;
  r.watchers_with_loss = w.with_loss + w.without;
  uint64_t got = 0;
  for (auto& v : ws) {
    got += v->seen.received;
    r.watcher_max_wait_ms = std::max(r.watcher_max_wait_ms, double(v->seen.max_wait_us) / 1000.0);
  }
  r.watcher_rate = ws.empty() ? 0 : double(got) / double(ws.size()) / wall;
  // Late or lost: what the joiners missed by the end, and whether it came
  // in the next 5 s.
  std::vector<uint32_t> ends;
  for (auto& v : js)
    ends.push_back(v->seen.ext_last);
  pump(ep, tcp, 5.0);
  uint64_t never = 0;
  for (size_t i = 0; i < js.size(); ++i)
    never += missing_up_to(js[i]->seen, ends[i]);
  r.joiner_late = j.lost > never ? j.lost - never : 0;
  for (auto& v : js) {
    r.joiner_overtaken += v->seen.late;
    r.joiners_overtaken += v->seen.late ? 1 : 0;
  }
  r.joiner_lost = j.lost;
  r.joiner_expected = j.expected;
  r.joiners_with_loss = j.with_loss;
  r.joiners_without_key = j.without;
  std::vector<double> ms;
  for (auto& v : js)
    if (v->seen.first_key_us)
      ms.push_back(double(v->seen.first_key_us - play_us) / 1000.0);
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) {
    r.key_p50_ms = ms[ms.size() / 2];
    r.key_p95_ms = ms[std::min(ms.size() - 1, size_t(double(ms.size()) * 0.95))];
    r.key_max_ms = ms.back();
  }
  for (auto& v : ws)
    stop_viewer(*v, t.url);
  for (auto& v : js)
    stop_viewer(*v, t.url);
  close(ep);
  return r;
}

}  // namespace gms::test
