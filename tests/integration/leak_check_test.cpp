// Sessions coming and going on every kind of path leave nothing behind: 200
// sessions on each (a shared launch line, a per-viewer launch line, a proxy,
// a published path with its publishers coming and going, a file root, a
// recorded path and a time range of its recording) against one in-process
// server; after them the process's
// memory, descriptors, threads and the server's sessions are back where they
// were after the first 20 (the warm-up: caches, pools and lazily made types
// fill there). Leaks that LeakSanitizer can see are reported when the
// process exits (the sanitized pass runs this test with detect_leaks=1).
// Both servers time sessions out after 10 s: a session whose client vanished
// (a proxy's back-end link cut by its reaper) then ends within the wait.
// Requests to the HTTP API leave no socket behind either (the live GSockets
// counted).
#include <arpa/inet.h>
#include <gst-mediaserver/server.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's allocator statistics (its header is not installed with
// GCC's runtime; the function is).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

#include "child.h"
#include "context_thread.h"
#include "live_instances.h"
#include "media_fixtures.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned kSessions = 200;  // per kind of path
constexpr unsigned kWarmUp = 20;     // of them, before the baseline

// What the process holds right now.
struct Usage {
  long heap_kb = 0;  // allocated and not freed: what a leak grows
  long rss_kb = 0;
  unsigned fds = 0;
  unsigned threads = 0;
  unsigned sessions = 0;         // the server's
  unsigned origin_sessions = 0;  // the proxy's back end's
};

unsigned entries(const char* dir) {
  unsigned n = 0;
  if (GDir* d = g_dir_open(dir, 0, nullptr)) {
    while (g_dir_read_name(d))
      ++n;
    g_dir_close(d);
  }
  return n;
}

// The bytes malloc has handed out and not had back. Under AddressSanitizer
// its allocator's count (freed memory in its quarantine is not in it), else
// glibc's over all arenas. RSS also counts memory freed into the allocator's
// caches, and under AddressSanitizer its quarantine and shadow.
long heap_kb() {
#if defined(__SANITIZE_ADDRESS__)
  return long(__sanitizer_get_current_allocated_bytes() / 1024);
#else
  return long(mallinfo2().uordblks / 1024);
#endif
}

long rss_kb() {
  long kb = 0;
  if (FILE* f = fopen("/proc/self/status", "r")) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmRSS: %ld", &kb) == 1)
        break;
    fclose(f);
  }
  return kb;
}

std::string show(const Usage& u) {
  return "heap " + std::to_string(u.heap_kb) + " kB, rss " + std::to_string(u.rss_kb) + " kB, " + std::to_string(u.fds) + " fds, " +
         std::to_string(u.threads) + " threads, " + std::to_string(u.sessions) + "+" +
         std::to_string(u.origin_sessions) + " sessions";
}

// Runs a Server on its own context and thread, as an application would.
class Embedded {
 public:
  explicit Embedded(const Config& cfg)
      : server_(std::make_unique<Server>(cfg)), thread_([this] { server_->attach(); }) {}
  ~Embedded() {
    thread_.stop();
    server_.reset();
  }
  Server& server() { return *server_; }
  std::string url(const std::string& path) const {
    return "rtsp://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

 private:
  std::unique_ptr<Server> server_;
  ContextThread thread_;
};

std::string session_of(const RtspReply& r) {
  std::string id = r.header("Session");
  return id.substr(0, id.find(';'));
}

// One viewer by hand over TCP: DESCRIBE, SETUP of stream 0, PLAY, one RTP
// packet, TEARDOWN, close. "" when all went well, else what did not.
std::string one_session(uint16_t port, const std::string& url) {
  RawRtsp c(port);
  if (!c.connected())
    return "no connection";
  int cseq = 1;
  // 503 is "ask again soon": a proxy's back end or a file's probe on its way.
  RtspReply r;
  auto asked_until = Clock::now() + 30s;
  do {
    r = c.request(rtsp_request("DESCRIBE", url, cseq++, "", "Accept: application/sdp\r\n"), 30s);
    if (r.status == 503)
      std::this_thread::sleep_for(200ms);  // a retry, bounded by `asked_until`
  } while (r.status == 503 && Clock::now() < asked_until);
  if (r.status != 200)
    return "DESCRIBE " + std::to_string(r.status);
  // Later requests go to the Content-Base, as clients send them: a
  // recording's range has it without the query.
  std::string base = r.header("Content-Base");
  base.erase(base.find_last_not_of(" \r\n/") + 1);
  if (base.empty())
    base = url;
  r = c.request(rtsp_request("SETUP", base + "/stream=0", cseq++, "",
                             "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"),
                30s);
  std::string session = session_of(r);
  if (r.status != 200 || session.empty())
    return "SETUP " + std::to_string(r.status);
  r = c.request(rtsp_request("PLAY", base, cseq++, session), 30s);
  if (r.status != 200)
    return "PLAY " + std::to_string(r.status);
  auto end = Clock::now() + 20s;
  bool got = false;
  while (!got && Clock::now() < end) {
    RawRtsp::Frame f = c.read_interleaved(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()));
    if (f.channel < 0)
      break;
    got = f.channel == 0 && f.data.size() >= 12;
  }
  if (!got)
    return "no RTP after PLAY";
  // The reply may come after interleaved data still in flight: read_reply
  // skips frames.
  c.send(rtsp_request("TEARDOWN", base, cseq++, session));
  r = c.read_reply(30s);
  if (r.status != 200)
    return "TEARDOWN " + std::to_string(r.status);
  return "";
}

// A kind of path and how its sessions come and go.
struct Kind {
  std::string name;
  std::function<std::string(unsigned from, unsigned to)> run;  // sessions [from, to)
};

class LeakCheck : public testing::Test {
 protected:
  void SetUp() override {
    media_dir_ = make_media_dir({"h264_aac.mp4"});
    record_dir_ = GCharPtr(g_dir_make_tmp("gms-leak-rec-XXXXXX", nullptr)).get();
    Config origin_cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\nhttp-port=0\n"
                                                      "session-timeout=10\n[path /o]\nlinger=1\nlaunch=") + kMjpeg + "\n",
                                          "origin");
    origin_cfg.validate();
    origin_ = std::make_unique<Embedded>(origin_cfg);
    Config cfg = Config::from_data(
        std::string("[server]\naddress=127.0.0.1\nport=0\nhttp-port=0\nsession-timeout=10\n"
                    "record-dir=") + record_dir_ +
            "\n[path /shared]\nrecord=false\nlinger=1\nlaunch=" + kMjpeg +
            "\n[path /own]\nshared=false\nlaunch=" + kMjpeg +
            "\n[path /proxy]\nrecord=false\non-demand=true\nlinger=1\nproxy=" + origin_->url("/o") +
            "\n[path /live]\nrecord=false\npublish=true\n"
            "[path /vod]\nroot=" + media_dir_ +
            "\n[path /rec]\nrecord=true\nrecord-format=mkv\nsegment-duration=2\nlaunch=" + kMjpeg + "\n",
        "leak-check");
    cfg.validate();
    server_ = std::make_unique<Embedded>(cfg);
    ASSERT_GT(server_->server().port(), 0);
  }
  void TearDown() override {
    server_.reset();
    origin_.reset();
  }

  Usage usage() {
    Usage u;
    u.heap_kb = heap_kb();
    u.rss_kb = rss_kb();
    u.fds = entries("/proc/self/fd");
    u.threads = entries("/proc/self/task");
    u.sessions = server_->server().session_count();
    u.origin_sessions = origin_->server().session_count();
    return u;
  }

  // `count` sessions one after the other on `path`; the first failure.
  std::string viewers(const std::string& path, unsigned from, unsigned to) {
    for (unsigned i = from; i < to; ++i) {
      std::string why = one_session(server_->server().port(), server_->url(path));
      if (!why.empty())
        return path + " session " + std::to_string(i) + ": " + why;
    }
    return "";
  }

  // A publisher (rtspclientsink in a process of its own) per 20 viewers:
  // each announces, records, is watched and leaves.
  std::string published(unsigned from, unsigned to) {
    for (unsigned i = from; i < to; i += kWarmUp) {
      Child pub({"gst-launch-1.0", "-q", "-e", "videotestsrc", "is-live=true", "!",
                 "video/x-raw,format=I420,width=160,height=120,framerate=15/1", "!", "jpegenc", "!",
                 "rtspclientsink", "location=" + server_->url("/live"), "protocols=tcp"});
      if (!pub.started())
        return "publisher did not start";
      auto end = Clock::now() + 30s;
      std::string why = "not published";
      while (Clock::now() < end && !why.empty()) {
        RawRtsp c(server_->server().port());
        if (c.request(describe(server_->url("/live"), 1), 10s).status == 200)
          why.clear();
        else
          std::this_thread::sleep_for(100ms);  // a poll, bounded by `end`
      }
      if (!why.empty())
        return "/live: " + why + ": " + pub.output();
      why = viewers("/live", i, std::min(to, i + kWarmUp));
      if (!why.empty())
        return why;
      // Leaves as a publisher does: end of stream, TEARDOWN, close.
      pub.signal(SIGINT);
      if (pub.wait(10000) != 0)
        pub.signal(SIGKILL);
    }
    return "";
  }

  // Viewers of the first 8 s of /rec's recording, once its segments are
  // closed: every session builds its sources from those files again.
  std::string recordings(unsigned from, unsigned to) {
    const std::string dir = record_dir_ + "/rec";
    const bool closed = wait_until([&] { return entries(dir.c_str()) >= 6; }, 60s);
    if (!closed)
      return "/rec recorded " + std::to_string(entries(dir.c_str())) + " segments in 60 s";
    GDateTime* t = g_date_time_new_from_unix_utc(started_unix_ - 1);
    GCharPtr start(g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ"));
    g_date_time_unref(t);
    return viewers("/recordings/rec?start=" + std::string(start.get()) + "&duration=8", from, to);
  }

  std::vector<Kind> kinds() {
    auto v = [this](std::string path) {
      return [this, path](unsigned from, unsigned to) { return viewers(path, from, to); };
    };
    return {{"shared launch", v("/shared")},
            {"own launch (shared=false)", v("/own")},
            {"proxy", v("/proxy")},
            {"publish", [this](unsigned from, unsigned to) { return published(from, to); }},
            {"file root", v("/vod/h264_aac.mp4")},
            {"recorded", v("/rec")},
            {"recordings (a time range of /rec)",
             [this](unsigned from, unsigned to) { return recordings(from, to); }}};
  }

  // Every kind at once, each on a thread of its own; the failures.
  // GMS_LEAK_KINDS=proxy,publish (names' first words) runs only those, to
  // find which kind a growth comes from.
  std::vector<std::string> run_all(unsigned from, unsigned to) {
    std::vector<Kind> ks = kinds();
    if (const char* only = g_getenv("GMS_LEAK_KINDS")) {
      std::string wanted = std::string(",") + only + ",";
      std::erase_if(ks, [&](const Kind& k) {
        return wanted.find("," + k.name.substr(0, k.name.find(' ')) + ",") == std::string::npos;
      });
    }
    std::vector<std::string> why(ks.size());
    std::vector<std::thread> threads;
    for (size_t k = 0; k < ks.size(); ++k)
      threads.emplace_back([&, k] { why[k] = ks[k].run(from, to); });
    for (auto& t : threads)
      t.join();
    std::vector<std::string> failed;
    for (auto& w : why)
      if (!w.empty())
        failed.push_back(w);
    return failed;
  }

  std::string media_dir_, record_dir_;
  gint64 started_unix_ = g_get_real_time() / G_USEC_PER_SEC;  // before the server
  std::unique_ptr<Embedded> origin_, server_;
};

// The tolerances. The heap: 4 MB over 1,080 sessions (4 bytes a session
// would pass; a leaked buffer or pipeline per session would not), for
// caches that fill by time rather than by use (log lines, GLib's slices).
// RSS (not under AddressSanitizer, whose quarantine and shadow it counts):
// 16 MB more, for memory freed into malloc's arenas and kept there.
// Descriptors and sessions: none. Threads: the few that a thread pool keeps
// idle for a while.
constexpr long kHeapSlackKb = 4 * 1024;
constexpr long kRssSlackKb = 16 * 1024;
constexpr unsigned kThreadSlack = 4;
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssMeans = false;
#else
constexpr bool kRssMeans = true;
#endif

bool settled(const Usage& now, const Usage& base) {
  return now.sessions == 0 && now.origin_sessions == 0 && now.fds <= base.fds &&
         now.threads <= base.threads + kThreadSlack && now.heap_kb <= base.heap_kb + kHeapSlackKb &&
         (!kRssMeans || now.rss_kb <= base.rss_kb + kRssSlackKb);
}

// Every client gone, the on-demand lines stopped (linger 1 s), and the
// process quiet: two samples half a second apart agree on fds and threads.
Usage quiet(const std::function<Usage()>& sample) {
  wait_until([&] {
    Usage u = sample();
    return u.sessions == 0 && u.origin_sessions == 0;
  }, 30s);
  Usage now = sample();
  wait_until([&] {
    Usage before = now;
    g_usleep(500 * 1000);
    now = sample();
    return before.fds == now.fds && before.threads == now.threads;
  }, 15s);
  return now;
}

TEST_F(LeakCheck, SessionsComingAndGoingOnEveryKindOfPath) {
  auto start = Clock::now();
  auto sample = [this] { return usage(); };
  std::vector<Usage> after;  // after each round of kWarmUp sessions per kind
  for (unsigned from = 0; from < kSessions && !HasFailure(); from += kWarmUp) {
    for (auto& w : run_all(from, from + kWarmUp))
      ADD_FAILURE() << w;
    // The warm-up and the end are measured quiet; the rounds between as
    // they are (their figures show a growth's slope, not a verdict).
    bool measured = from == 0 || from + kWarmUp >= kSessions;
    after.push_back(measured ? quiet(sample) : sample());
    printf("after %u sessions per kind (%.0f s): %s\n", from + kWarmUp,
           std::chrono::duration<double>(Clock::now() - start).count(), show(after.back()).c_str());
    fflush(stdout);
  }
  ASSERT_EQ(after.size(), kSessions / kWarmUp);
  const Usage& base = after.front();
  Usage last = after.back();
  bool ok = wait_until([&] {
    last = usage();
    return settled(last, base);
  }, 40s);
  EXPECT_TRUE(ok) << "after the warm-up " << show(base) << "; at the end " << show(last);
}

// GET `path` on 127.0.0.1:`port` over a connection of its own, as curl or a
// scraper asks; read until the server closes. The status, 0 for none.
unsigned http_status(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  std::string reply;
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
    const auto end = Clock::now() + 10s;
    char buf[4096];
    while (Clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0)
        continue;
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      reply.append(buf, size_t(n));
    }
  }
  if (fd >= 0)
    close(fd);
  unsigned status = 0;
  return sscanf(reply.c_str(), "HTTP/1.1 %u", &status) == 1 ? status : 0;
}

GType socket_type() { return G_TYPE_SOCKET; }
using LiveSockets = LiveInstances<socket_type>;

// Every HTTP connection's GSocket is freed once it is answered and closed:
// libsoup 3.2's listener kept one reference to each for good (about 350
// bytes a request, 4 MB in a 2-hour soak that polled the API each second).
TEST(ApiLeakCheck, AnsweredRequestsLeaveNoSocketBehind) {
  Config cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\nhttp-port=") +
                                     std::to_string(free_port()) + "\n[path /a]\nlaunch=" + kMjpeg + "\n",
                                 "api-leak-check");
  cfg.validate();
  LiveSockets sockets;
  Embedded server(cfg);
  const uint16_t port = server.server().http_port();
  ASSERT_GT(port, 0);
  // The listening sockets at least: none would mean nothing is counted.
  // (The live count itself may start below zero: sockets of an earlier
  // test in this process that are finalized now count -1 each.)
  const long base = sockets.now();
  ASSERT_GT(sockets.made(), 0) << "no GSocket counted";
  constexpr unsigned kRequests = 600;
  const char* routes[] = {"/api/v1/paths", "/api/v1/sessions", "/metrics", "/api/v1/health", "/nothing"};
  unsigned answered = 0;
  for (unsigned i = 0; i < kRequests; ++i) {
    const char* route = routes[i % std::size(routes)];
    const unsigned status = http_status(port, route);
    answered += status == (std::string(route) == "/nothing" ? 404u : 200u);
  }
  EXPECT_EQ(answered, kRequests);
  // Each answer closes its connection: nothing waits for a next request.
  long now = sockets.now();
  const bool back = wait_until([&] { return (now = sockets.now()) <= base; }, 10s);
  EXPECT_TRUE(back) << base << " sockets before " << kRequests << " requests, " << now << " after";
}

}  // namespace
}  // namespace gms::test
