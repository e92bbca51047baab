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
//   build/tests/publish_bench [VIEWERS] [SECONDS] [publish|proxy] [nostock]
//   (default 1000 viewers, 15 s, viewers on the publish path, with the stock relay)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "child.h"
#include "first_key.h"
#include "process.h"
#include "publish_raw.h"

using namespace gms::test;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kb(GPid pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return 0;
}

struct Seen {
  bool any = false;
  uint16_t first = 0;
  uint32_t ext_last = 0;  // extended sequence number of the newest packet
  uint64_t received = 0;
  void add(uint16_t seq) {
    if (!any) {
      any = true;
      first = seq;
      ext_last = seq;
    } else {
      int16_t d = int16_t(seq - uint16_t(ext_last));
      if (d > 0)
        ext_last += uint32_t(d);
    }
    received++;
  }
  uint64_t expected() const { return any ? ext_last - first + 1 : 0; }
};

struct ViewerConn {
  int rtsp = -1;
  int udp = -1;
  std::string buf;
  Seen seen;
};

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += size_t(n);
  }
  return true;
}

// Reads until a full RTSP reply (headers + body) is buffered; returns it.
std::string read_reply(int fd, std::string& buf) {
  for (int tries = 0; tries < 500; ++tries) {
    // Interleaved data may come before the PLAY reply: skip whole frames.
    while (buf.size() >= 4 && buf[0] == '$') {
      size_t len = (uint8_t(buf[2]) << 8) | uint8_t(buf[3]);
      if (buf.size() < 4 + len)
        break;
      buf.erase(0, 4 + len);
    }
    auto e = buf.find("\r\n\r\n");
    if (e != std::string::npos && buf[0] != '$') {
      size_t len = 0;
      auto cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < e)
        len = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= e + 4 + len) {
        std::string r = buf.substr(0, e + 4 + len);
        buf.erase(0, e + 4 + len);
        return r;
      }
    }
    pollfd pf{fd, POLLIN, 0};
    if (poll(&pf, 1, 20) <= 0)
      continue;
    char tmp[16384];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0)
      return {};
    buf.append(tmp, size_t(n));
  }
  return {};
}

bool start_viewer(ViewerConn& v, uint16_t port, const std::string& url, bool tcp) {
  v.rtsp = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(v.rtsp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return false;
  int rcv = 1 << 20;
  std::string transport;
  if (tcp) {
    setsockopt(v.rtsp, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    transport = "RTP/AVP/TCP;unicast;interleaved=0-1";
  } else {
    v.udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    setsockopt(v.udp, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    sockaddr_in u{};
    u.sin_family = AF_INET;
    u.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof u;
    bind(v.udp, reinterpret_cast<sockaddr*>(&u), sizeof u);
    getsockname(v.udp, reinterpret_cast<sockaddr*>(&u), &len);
    int p = ntohs(u.sin_port);
    transport = "RTP/AVP;unicast;client_port=" + std::to_string(p) + "-" + std::to_string(p + 1);
  }
  if (!send_all(v.rtsp, describe(url, 1)))
    return false;
  std::string d = read_reply(v.rtsp, v.buf);
  if (d.find(" 200 ") == std::string::npos) {
    fprintf(stderr, "DESCRIBE: %s\n", d.substr(0, d.find("\r\n")).c_str());
    return false;
  }
  send_all(v.rtsp, "SETUP " + url + "/stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: " + transport +
                       "\r\n\r\n");
  std::string r = read_reply(v.rtsp, v.buf);
  auto s = r.find("Session: ");
  if (r.find(" 200 ") == std::string::npos || s == std::string::npos) {
    fprintf(stderr, "SETUP: %s\n", r.empty() ? "no reply in 10 s" : r.substr(0, r.find("\r\n")).c_str());
    return false;
  }
  std::string session = r.substr(s + 9, r.find_first_of(";\r", s + 9) - s - 9);
  send_all(v.rtsp, "PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + session + "\r\n\r\n");
  std::string p = read_reply(v.rtsp, v.buf);
  if (p.find(" 200 ") == std::string::npos) {
    fprintf(stderr, "PLAY: %s\n", p.empty() ? "no reply in 10 s" : p.substr(0, p.find("\r\n")).c_str());
    return false;
  }
  return true;
}

void drain_tcp(ViewerConn& v) {
  char tmp[65536];
  for (;;) {
    ssize_t n = recv(v.rtsp, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n <= 0)
      break;
    v.buf.append(tmp, size_t(n));
  }
  size_t off = 0;
  while (v.buf.size() - off >= 4) {
    if (v.buf[off] != '$') {  // an RTSP message (e.g. keep-alive reply): skip
      auto e = v.buf.find("\r\n\r\n", off);
      if (e == std::string::npos)
        break;
      off = e + 4;
      continue;
    }
    size_t len = (uint8_t(v.buf[off + 2]) << 8) | uint8_t(v.buf[off + 3]);
    if (v.buf.size() - off < 4 + len)
      break;
    if (v.buf[off + 1] == 0 && len >= 12)
      v.seen.add(uint16_t((uint8_t(v.buf[off + 6]) << 8) | uint8_t(v.buf[off + 7])));
    off += 4 + len;
  }
  v.buf.erase(0, off);
}

void drain_udp(ViewerConn& v) {
  constexpr int kBatch = 64;
  static uint8_t bufs[kBatch][2048];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i], sizeof bufs[i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(v.udp, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0)
      return;
    // Only RTP of the stream: the server's RTCP for a neighbour whose
    // client_port+1 is this socket's port arrives here too.
    for (int i = 0; i < n; ++i)
      if (msgs[i].msg_len >= 12 && (bufs[i][0] & 0xc0) == 0x80 && (bufs[i][1] & 0x7f) == 96)
        v.seen.add(uint16_t((bufs[i][2] << 8) | bufs[i][3]));
  }
}

struct PhaseResult {
  unsigned started = 0;
  uint64_t lost = 0, expected = 0;
  unsigned viewers_with_loss = 0;
  double cpu_per_viewer = 0;  // % of one core
  double cpu_total = 0;       // % of one core
  double client_cpu = 0;      // this load client, % of one core
  double pkt_rate = 0;        // packets/s per viewer (the stream's rate when keeping up)
  double min_rate = 0;        // of the slowest viewer
  unsigned churned = 0;       // viewers that joined and left meanwhile
  double kb_per_viewer = 0;   // server resident memory added per viewer
};

// A server under test: where viewers go, and its process.
struct Target {
  uint16_t port;
  std::string url;
  GPid pid;
};

PhaseResult run_phase(const Target& t, unsigned n, bool tcp, int seconds, double idle_cpu_pct,
                      bool churn_enabled = true) {
  PhaseResult r;
  GPid pid = t.pid;
  long rss_before = rss_kb(pid);
  std::vector<std::unique_ptr<ViewerConn>> viewers;
  int ep = epoll_create1(0);
  for (unsigned i = 0; i < n; ++i) {
    auto v = std::make_unique<ViewerConn>();
    if (!start_viewer(*v, t.port, t.url, tcp)) {
      fprintf(stderr, "viewer %u did not start\n", i);
      if (v->rtsp >= 0)
        close(v->rtsp);
      if (v->udp >= 0)
        close(v->udp);
      continue;
    }
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.ptr = v.get();
    epoll_ctl(ep, EPOLL_CTL_ADD, tcp ? v->rtsp : v->udp, &e);
    viewers.push_back(std::move(v));
    // Keep reading the viewers already playing while the others join: a
    // load client that stops reading is a slow viewer, and gets dropped.
    epoll_event ready[256];
    for (int k = epoll_wait(ep, ready, 256, 0); k > 0; k = epoll_wait(ep, ready, 256, 0)) {
      for (int j = 0; j < k; ++j) {
        auto* rv = static_cast<ViewerConn*>(ready[j].data.ptr);
        if (tcp)
          drain_tcp(*rv);
        else
          drain_udp(*rv);
      }
      if (k < 256)
        break;
    }
  }
  r.started = unsigned(viewers.size());
  // Warm up (joins settle), then count from a clean start.
  // Viewers that join and leave during the measurement (every 200 ms, up
  // to 10 at once, UDP and TCP): the measured ones must not notice them.
  std::vector<std::unique_ptr<ViewerConn>> churn;
  unsigned churned = 0;
  bool churning = false;
  auto last_churn = Clock::now();
  auto pump = [&](double secs) {
    auto end = Clock::now() + std::chrono::duration<double>(secs);
    epoll_event events[256];
    while (Clock::now() < end) {
      if (churning && Clock::now() - last_churn > std::chrono::milliseconds(200)) {
        last_churn = Clock::now();
        auto c = std::make_unique<ViewerConn>();
        if (start_viewer(*c, t.port, t.url, churned % 2 == 0))
          churned++;
        churn.push_back(std::move(c));
        if (churn.size() > 10) {
          auto& old = churn.front();
          send_all(old->rtsp, "TEARDOWN " + t.url + " RTSP/1.0\r\nCSeq: 9\r\n\r\n");
          close(old->rtsp);
          if (old->udp >= 0)
            close(old->udp);
          churn.erase(churn.begin());
        }
      }
      int k = epoll_wait(ep, events, 256, 50);
      for (int i = 0; i < k; ++i) {
        auto* v = static_cast<ViewerConn*>(events[i].data.ptr);
        if (tcp)
          drain_tcp(*v);
        else
          drain_udp(*v);
      }
    }
  };
  pump(4.0);
  for (auto& v : viewers)
    v->seen = Seen{};
  double c0 = process_cpu_seconds(pid);
  double self0 = process_cpu_seconds(getpid());
  auto t0 = Clock::now();
  churning = churn_enabled;
  pump(seconds);
  churning = false;
  r.churned = churned;
  for (auto& c : churn) {
    close(c->rtsp);
    if (c->udp >= 0)
      close(c->udp);
  }
  double c1 = process_cpu_seconds(pid);
  double self1 = process_cpu_seconds(getpid());
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& v : viewers) {
    uint64_t exp = v->seen.expected();
    uint64_t lost = exp > v->seen.received ? exp - v->seen.received : 0;
    if (!v->seen.any) {
      lost = 1;  // received nothing at all
    }
    r.lost += lost;
    r.expected += exp;
    if (lost) {
      if (r.viewers_with_loss < 5)
        fprintf(stderr, "  lossy viewer: received %llu expected %llu\n",
                (unsigned long long)v->seen.received, (unsigned long long)exp);
      r.viewers_with_loss++;
    }
  }
  r.cpu_total = 100.0 * (c1 - c0) / wall;
  uint64_t total = 0, least = UINT64_MAX;
  for (auto& v : viewers) {
    total += v->seen.received;
    least = std::min<uint64_t>(least, v->seen.received);
  }
  r.pkt_rate = viewers.empty() ? 0 : double(total) / double(viewers.size()) / wall;
  r.min_rate = viewers.empty() ? 0 : double(least) / wall;
  r.client_cpu = 100.0 * (self1 - self0) / wall;
  r.cpu_per_viewer = r.started ? (r.cpu_total - idle_cpu_pct) / r.started : 0;
  r.kb_per_viewer = r.started ? double(rss_kb(pid) - rss_before) / r.started : 0;
  for (auto& v : viewers) {
    send_all(v->rtsp, "TEARDOWN " + t.url + " RTSP/1.0\r\nCSeq: 9\r\n\r\n");
    close(v->rtsp);
    if (v->udp >= 0)
      close(v->udp);
  }
  close(ep);
  return r;
}

}  // namespace

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
  ServerProcess srv({"--publish", "/live/*", write_temp_file("bench.conf", "[server]\nmax-sessions=5000\n")});
  if (!srv.ready()) {
    fprintf(stderr, "server did not start\n%s", srv.log().c_str());
    return 1;
  }
  GPid pid = srv.pid();
  Target ours{srv.port(), srv.url("/live/bench"), pid};
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
             "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", srv.url("/live/bench")});
  if (!wait_published(srv, "/live/bench")) {
    fprintf(stderr, "publisher did not start\n%s%s", srv.log().c_str(), pub.output().c_str());
    return 1;
  }
  // "proxy": the viewers watch a second gst-mediaserver proxying the path
  // (one back-end session): the proxy's fan-out.
  std::unique_ptr<ServerProcess> proxy;
  if (mode == "proxy") {
    proxy = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--proxy", srv.url("/live/bench"),
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

  if (!with_stock)
    return 0;
  // The same stream through a stock gst-rtsp-server relay (a shared launch
  // line: rtspsrc ! depay ! parse ! pay, its own tee/appsink/multiudpsink
  // fan-out), same viewers, same run.
  ServerProcess stock({"--mount", "/stock=rtspsrc location=" + srv.url("/live/bench") +
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
