#include "load_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "process.h"
#include "publish_raw.h"

namespace gms::test {

using Clock = std::chrono::steady_clock;

long rss_kb(GPid pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return 0;
}

void Seen::add(uint16_t seq) {
  if (!any) {
    any = true;
    first = seq;
    ext_last = seq;
  } else {
    int16_t d = int16_t(seq - uint16_t(ext_last));
    if (d > 1)
      gaps++;
    if (d > 0)
      ext_last += uint32_t(d);
  }
  received++;
}

namespace {
// Whether an H.264 RTP payload opens a key frame.
bool starts_key(const uint8_t* payload, size_t len) {
  if (len < 2)
    return false;
  int type = payload[0] & 0x1f;
  if (type == 24)  // STAP-A: the first aggregated unit
    return len >= 4 && ((payload[3] & 0x1f) == 7 || (payload[3] & 0x1f) == 5);
  if (type == 28)  // FU-A: its start fragment
    return (payload[1] & 0x80) && ((payload[1] & 0x1f) == 5 || (payload[1] & 0x1f) == 7);
  return type == 7 || type == 5;
}
}  // namespace

namespace {
// A keyed viewer's packet with sequence number `seq`, once its key frame came.
// now_us: its arrival (0: it came before the key frame, not late).
void add_keyed(Seen& s, uint16_t seq, gint64 now_us) {
  int16_t d = int16_t(uint16_t(seq - uint16_t(s.ext_last)));
  int64_t ext = int64_t(s.ext_last) + d;
  if (ext < int64_t(s.first))
    return;  // before the key frame
  size_t idx = size_t(ext - s.first);
  if (idx >= s.got.size()) {
    s.got.resize(idx + 1024, false);
    s.overtaken_us.resize(idx + 1024, 0);
  }
  if (!s.got[idx]) {
    s.got[idx] = true;
    s.received++;
    if (now_us && s.overtaken_us[idx] && now_us - s.overtaken_us[idx] > Seen::kLateUs)
      s.late++;
  }
  if (d > 1) {
    s.gaps++;
    for (size_t k = idx - size_t(d) + 1; now_us && k < idx; ++k)
      s.overtaken_us[k] = now_us;
  }
  if (d > 0)
    s.ext_last = uint32_t(ext);
}
}  // namespace

void Seen::add_rtp(const uint8_t* rtp, size_t len) {
  if (len < 12)
    return;
  gint64 now = g_get_monotonic_time();
  if (last_us)
    max_wait_us = std::max(max_wait_us, now - last_us);
  last_us = now;
  uint16_t seq = uint16_t((rtp[2] << 8) | rtp[3]);
  if (need_key) {
    keyed = true;
    size_t off = 12 + 4 * size_t(rtp[0] & 0x0f);
    if (off >= len || !starts_key(rtp + off, len - off)) {
      if (early.size() < 8192)
        early.push_back(seq);
      return;
    }
    need_key = false;
    first_key_us = g_get_monotonic_time();
    any = true;
    first = seq;
    ext_last = seq;
    got.assign(1024, false);
    overtaken_us.assign(1024, 0);
    got[0] = true;
    received = 1;
    for (uint16_t e : early)
      add_keyed(*this, e, 0);
    early.clear();
    return;
  }
  if (keyed)
    add_keyed(*this, seq, now);
  else
    add(seq);
}

namespace {

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

}  // namespace

bool setup_viewer(ViewerConn& v, uint16_t port, const std::string& url, bool tcp) {
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
  v.session = r.substr(s + 9, r.find_first_of(";\r", s + 9) - s - 9);
  return true;
}

bool send_play(ViewerConn& v, const std::string& url) {
  return send_all(v.rtsp, "PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + v.session +
                              "\r\nRange: npt=0.000-\r\n\r\n");
}

bool start_viewer(ViewerConn& v, uint16_t port, const std::string& url, bool tcp) {
  if (!setup_viewer(v, port, url, tcp))
    return false;
  send_play(v, url);
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
      v.seen.add_rtp(reinterpret_cast<const uint8_t*>(v.buf.data() + off + 4), len);
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
        v.seen.add_rtp(bufs[i], msgs[i].msg_len);
  }
}

namespace {

// GMS_BENCH_WITH_VIEWERS=CMD: a shell command run while a phase's viewers
// are still there (a heap snapshot, /proc/PID/smaps), with GMS_BENCH_PID and
// GMS_BENCH_VIEWERS in its environment.
void run_with_viewers(GPid pid, unsigned viewers) {
  const char* cmd = g_getenv("GMS_BENCH_WITH_VIEWERS");
  if (!cmd || !*cmd)
    return;
  std::string line = "GMS_BENCH_PID=" + std::to_string(pid) +
                     " GMS_BENCH_VIEWERS=" + std::to_string(viewers) + " " + cmd;
  if (std::system(line.c_str()) != 0)
    fprintf(stderr, "GMS_BENCH_WITH_VIEWERS failed: %s\n", cmd);
}

}  // namespace

PhaseResult run_phase(const Target& t, unsigned n, bool tcp, int seconds, double idle_cpu_pct,
                      bool churn_enabled, PhaseWindow* window) {
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
  if (window)
    window->start = g_get_monotonic_time();
  pump(seconds);
  if (window)
    window->end = g_get_monotonic_time();
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
    r.gaps += v->seen.gaps;
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
  r.rss_before_kb = rss_before;
  r.rss_with_viewers_kb = rss_kb(pid);
  r.kb_per_viewer = r.started ? double(r.rss_with_viewers_kb - rss_before) / r.started : 0;
  run_with_viewers(pid, r.started);
  for (auto& v : viewers)
    stop_viewer(*v, t.url);
  close(ep);
  return r;
}

bool teardown_and_wait(ViewerConn& v, const std::string& url) {
  bool ok = send_all(v.rtsp, "TEARDOWN " + url + " RTSP/1.0\r\nCSeq: 4\r\nSession: " +
                                 v.session + "\r\n\r\n");
  ok = ok && read_reply(v.rtsp, v.buf).find(" 200 ") != std::string::npos;
  close(v.rtsp);
  if (v.udp >= 0)
    close(v.udp);
  v.rtsp = v.udp = -1;
  return ok;
}

void stop_viewer(ViewerConn& v, const std::string& url) {
  if (v.rtsp >= 0) {
    send_all(v.rtsp, "TEARDOWN " + url + " RTSP/1.0\r\nCSeq: 9\r\n\r\n");
    close(v.rtsp);
  }
  if (v.udp >= 0)
    close(v.udp);
  v.rtsp = v.udp = -1;
}

}  // namespace gms::test
