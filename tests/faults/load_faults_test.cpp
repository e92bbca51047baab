// Load from clients that take and do not give back (F03, F04).
//
// F03: among twenty TCP viewers of a live path, one reads at 1 KB/s with a
// 4 KB receive buffer (or is a real ffmpeg viewer stopped with SIGSTOP).
// gst-rtsp-server 1.22 feeds all TCP viewers of a stream from one appsink,
// paced to the fastest, and queues what a viewer's socket does not take in
// a backlog of that viewer's; a backlog over 10 s and 100 items has the
// viewer's transport dropped ("Dropping slow transport", its GStreamer
// error line, shown here with GST_DEBUG=rtspstream:1). The nineteen others
// must lose no packet (every sequence number counted), the slow one must
// be dropped, not stall anyone nor hold memory without bound, and the
// server's descriptors and threads must come back once all have left.
//
// F04: 300 DESCRIBEs that never SETUP, then 300 SETUPs that never PLAY,
// on a file path (a pipeline per viewer) and on a proxied path (one shared
// pipeline), each from a connection of its own, all sent before any reply
// is read. The pipelines are capped (max-pipelines: 503 with Retry-After
// and the reason beyond it), the abandoned ones are released within the
// session timeout (twice that for a session never played: it ends, then
// its connection), a viewer of another path plays throughout without a
// gap, and new viewers play afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <functional>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "child.h"
#include "http_client.h"
#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "prom_text.h"
#include "publish_raw.h"
#include "rtp_publisher.h"
#include "rtsp_raw.h"
#include "sanitizer.h"
#include "stuck_viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

// A figure of the server's /metrics (NaN when it did not answer).
double metric(const ServerProcess& srv, const std::string& name) {
  HttpReply r = http_get(srv.http_url("/metrics"));
  if (r.status != 200)
    return NAN;
  return parse_prom_text(r.body).value(name);
}

// `n` more packets within `timeout`, lost or not (flowing() also wants no
// gap since the viewer began, its join included).
bool receiving(const PacketViewer& v, unsigned n = 50,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const unsigned from = v.packets();
  return wait_until([&] { return v.packets() >= from + n; }, timeout);
}

struct FloodResult {
  unsigned ok = 0, refused = 0, other = 0, unanswered = 0;
  unsigned refused_without_retry = 0, refused_without_reason = 0;
  std::string sample_refusal, sample_other;
  double seconds = 0;
};

// `n` connections each send one request (made by `request` from its
// index), all before any reply is read; then every reply is read within
// 60 s in all. The connections stay open in `conns`.
FloodResult flood(uint16_t port, unsigned n, const std::function<std::string(unsigned)>& request,
                  std::vector<std::unique_ptr<RawRtsp>>& conns) {
  FloodResult r;
  const auto t0 = Clock::now();
  for (unsigned i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<RawRtsp>(port));
    conns.back()->send(request(i));
  }
  const auto end = t0 + 60s;
  for (auto& c : conns) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    RtspReply reply = c->read_reply(std::max(left, std::chrono::milliseconds(1)));
    if (reply.status == 200) {
      r.ok++;
    } else if (reply.status == 503) {
      r.refused++;
      if (reply.header("Retry-After").empty())
        r.refused_without_retry++;
      if (reply.text.find("max-pipelines") == std::string::npos)
        r.refused_without_reason++;
      if (r.sample_refusal.empty())
        r.sample_refusal = reply.text.substr(0, reply.text.find("\r\n"));
    } else if (reply.status == 0) {
      r.unanswered++;
    } else {
      r.other++;
      if (r.sample_other.empty())
        r.sample_other = reply.text.substr(0, 200);
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

std::string describe_text(const FloodResult& f) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%u 200, %u 503, %u other, %u unanswered in %.1f s", f.ok,
                f.refused, f.other, f.unanswered, f.seconds);
  return buf;
}

// The library's error line for a dropped viewer in the servers' logs: its
// stream category's errors on top of what the environment asks.
void show_dropped_transports() {
  const char* now = g_getenv("GST_DEBUG");
  std::string want = now && *now ? std::string(now) + ",rtspstream:1" : "rtspstream:1";
  if (!now || std::string(now).find("rtspstream:1") == std::string::npos)
    g_setenv("GST_DEBUG", want.c_str(), TRUE);
}

class LoadFaults : public testing::Test {
 protected:
  void TearDown() override {
    if (srv_) {
      EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }
  // Pipelines, sessions and connections the server reports now.
  struct Counts {
    double pipelines = NAN, sessions = NAN, connections = NAN;
    bool operator<=(const Counts& o) const {
      return pipelines <= o.pipelines && sessions <= o.sessions && connections <= o.connections;
    }
  };
  Counts counts() const {
    HttpReply r = http_get(srv_->http_url("/metrics"));
    Counts c;
    if (r.status != 200)
      return c;
    PromText t = parse_prom_text(r.body);
    c.pipelines = t.value("gms_pipelines");
    c.sessions = t.value("gms_sessions");
    c.connections = t.value("gms_connections");
    return c;
  }
  static std::string text(const Counts& c) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%g pipelines, %g sessions, %g connections", c.pipelines,
                  c.sessions, c.connections);
    return buf;
  }

  // F03's server: /live/* published, with the HTTP API (its figures), the
  // library's slow-transport line shown.
  void serve_publish_paths() {
    show_dropped_transports();
    srv_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            write_temp_file("f03.conf", "[server]\nverbose=1\n[path /live/*]\npublish=true\n")},
        true, 0, std::vector<std::string>{}, true);
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  }

  std::unique_ptr<ServerProcess> srv_;
};

// ---- F03 ------------------------------------------------------------------

constexpr unsigned kViewers = 19;  // beside the slow one
const char kDropLine[] = "Dropping slow transport";

// A picture after `fillers` filler units of 1400 bytes (24: about 0.85 MB/s
// at 25 pictures a second), so that a viewer that does not keep up falls
// seconds behind within seconds.
Pacer::Tick heavy_frames(int fillers) {
  const std::string filler = std::string(1, '\x0c') + std::string(1399, '\xff');
  return [filler, fillers](RtpPublisher& pub) {
    std::vector<std::string> packets;
    for (int i = 0; i < fillers; ++i)
      packets.push_back(rtp_packet(96, pub.seq++, pub.ts, pub.ssrc, filler, false));
    auto f = pub.frame();
    packets.insert(packets.end(), f.begin(), f.end());
    pub.ts += kFrameTicks;
    return pub.send(packets);
  };
}

// What the slow viewer is: a raw socket reading 1 KB/s, or ffmpeg stopped.
class SlowOne {
 public:
  virtual ~SlowOne() = default;
  virtual bool start(std::string& why) = 0;
  virtual std::string state() const = 0;
  // Bytes waiting for it in the server's socket (0: not known).
  virtual size_t unsent() const { return 0; }
};

class SlowSocket : public SlowOne {
 public:
  SlowSocket(const ServerProcess& srv, const std::string& url) : srv_(srv), url_(url) {}
  bool start(std::string& why) override {
    viewer_ = std::make_unique<StuckTcpViewer>(srv_.port(), url_);
    if (!viewer_->ok()) {
      why = viewer_->error();
      return false;
    }
    viewer_->read_slowly(1024);
    return true;
  }
  size_t unsent() const override { return viewer_->server_unsent(srv_.port()); }
  std::string state() const override {
    return "read " + std::to_string(viewer_->bytes_read()) + " bytes, " +
           std::to_string(viewer_->server_unsent(srv_.port())) + " unsent in the server's socket" +
           (viewer_->closed() ? ", closed by the server" : ", still open");
  }

 private:
  const ServerProcess& srv_;
  std::string url_;
  std::unique_ptr<StuckTcpViewer> viewer_;
};

class StoppedFfmpeg : public SlowOne {
 public:
  explicit StoppedFfmpeg(const std::string& url) : url_(url) {}
  ~StoppedFfmpeg() override {
    if (ffmpeg_) {
      ffmpeg_->signal(SIGCONT);
      ffmpeg_->signal(SIGKILL);
      ffmpeg_->wait(5000);
    }
  }
  // Plays until ffmpeg reports a few pictures decoded, then SIGSTOP.
  bool start(std::string& why) override {
    ffmpeg_ = std::make_unique<Child>(std::vector<std::string>{
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-nostats", "-progress",
        "pipe:1", "-rtsp_transport", "tcp", "-i", url_, "-t", "120", "-f", "null", "-"});
    if (!wait_until([&] { return ffmpeg_->output().find("progress=continue") != std::string::npos; },
                    20s)) {
      why = "ffmpeg did not play: " + ffmpeg_->output();
      return false;
    }
    ffmpeg_->signal(SIGSTOP);
    return true;
  }
  std::string state() const override { return "ffmpeg stopped"; }

 private:
  std::string url_;
  std::unique_ptr<Child> ffmpeg_;
};

// Twenty TCP viewers of a live published path, one of them `slow`.
void play_with_slow_one(ServerProcess& srv, std::unique_ptr<SlowOne> slow, const char* label) {
  const std::string url = srv.url("/live/f03");
  RtpPublisher pub(srv, "/live/f03", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv.log_tail();
  Pacer pacer(pub, heavy_frames(24));
  std::vector<std::unique_ptr<PacketViewer>> viewers;
  for (unsigned i = 0; i < kViewers; ++i) {
    // (A DESCRIBE as the media of the one before goes can get 503: the
    // library's race, README B05; here only the first could.)
    std::unique_ptr<PacketViewer> v;
    ASSERT_TRUE(wait_until(
        [&] {
          v = std::make_unique<PacketViewer>(srv.port(), url);
          return v->ok() || (g_usleep(200000), false);
        },
        20s))
        << i << ": " << v->state() << "\n" << srv.log_tail();
    viewers.push_back(std::move(v));
  }
  for (auto& v : viewers)
    ASSERT_TRUE(receiving(*v)) << v->state() << "\n" << srv.log_tail();
  // (RSS is compared with its figure with the 19: what they take is
  // theirs, the peak beyond it the slow one's.)
  const long rss0 = rss_kib(srv.pid());
  // Gaps are counted from here: a joiner's first packets (the cached key
  // frame, then the live stream) are another case's (the relay's splice).
  std::vector<unsigned> from, gaps_from;
  unsigned join_gaps = 0;
  for (auto& v : viewers) {
    from.push_back(v->packets());
    gaps_from.push_back(v->gaps());
    join_gaps += v->gaps();
  }
  // (A viewer's attempt refused at its PLAY may leave a session until the
  // timeout: sessions are compared with their count before the slow one.)
  const double sessions0 = metric(srv, "gms_sessions");
  std::string why;
  const auto t0 = Clock::now();
  ASSERT_TRUE(slow->start(why)) << why << "\n" << srv.log_tail();
  // The slow one falls behind: its socket fills, then its backlog in the
  // library, until that is over 10 s and 100 packets long.
  long rss_peak = rss0;
  auto sample = [&] {
    rss_peak = std::max(rss_peak, rss_kib(srv.pid()));
    return srv.log_contains(kDropLine);
  };
  ASSERT_TRUE(wait_until(sample, 60s)) << slow->state() << "\n" << srv.log_tail();
  const double to_drop = std::chrono::duration<double>(Clock::now() - t0).count();
  const size_t unsent_at_drop = slow->unsent();
  // The library tells no one: its session stayed PLAYING with nothing
  // sent, for good if the client kept it alive. The server ends it (two
  // looks 2 s apart find its transport gone from the stream) and closes
  // its connection: the publisher's and the others' sessions are left.
  double sessions = NAN;
  EXPECT_TRUE(wait_until(
      [&] {
        sessions = metric(srv, "gms_sessions");
        return sessions == sessions0;
      },
      10s))
      << sessions << " sessions, " << sessions0 << " before the slow one\n" << srv.log_tail();
  const double to_end = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_TRUE(srv.log_contains("did not keep up")) << srv.log_tail();
  // Then 3000 packets more (4 s): the others go on, nothing else is dropped.
  const unsigned mark = viewers[0]->packets();
  EXPECT_TRUE(wait_until([&] {
                           sample();  // (RSS)
                           return viewers[0]->packets() >= mark + 3000;
                         }, 15s))
      << viewers[0]->state();
  unsigned total = 0, gaps = 0;
  for (size_t i = 0; i < viewers.size(); ++i) {
    EXPECT_TRUE(receiving(*viewers[i])) << i << ": " << viewers[i]->state();
    EXPECT_EQ(viewers[i]->gaps(), gaps_from[i]) << i << ": " << viewers[i]->state();
    EXPECT_FALSE(viewers[i]->closed()) << i << ": " << viewers[i]->state();
    total += viewers[i]->packets() - from[i];
    gaps += viewers[i]->gaps() - gaps_from[i];
  }
  // Dropped: nothing more is queued for it (its socket only drains).
  EXPECT_LE(slow->unsent(), unsent_at_drop) << slow->state();
  const size_t drops = count_occurrences(srv.log(), kDropLine);
  EXPECT_EQ(drops, 1u) << "only the slow viewer is dropped\n" << srv.log_tail();
  const long grown = rss_peak - rss0;
  std::printf("F03 %s: dropped by the library %.1f s after it started (%zu drop line), its "
              "session ended at %.1f s; the %u "
              "others got %u packets meanwhile, %u gaps (%u at their joins); the slow one: %s; "
              "server RSS %ld KiB with the %u, peak +%ld KiB%s\n",
              label, to_drop, drops, to_end, kViewers, total, gaps, join_gaps, slow->state().c_str(), rss0, kViewers,
              grown, kAsan ? " (ASan: not asserted)" : "");
  if (!kAsan) {
    EXPECT_LT(grown, 64L * 1024) << "the slow viewer's backlog is not bounded";
  }
  EXPECT_FALSE(pacer.failed()) << srv.log_tail();
  ASSERT_TRUE(srv.alive()) << srv.log_tail();
}

// The same with what a server holds before and after: the publisher and
// all twenty gone, its descriptors and threads are back to their count
// before any came.
void twenty_viewers_one_slow(ServerProcess& srv, std::unique_ptr<SlowOne> slow,
                             const char* label) {
  const Holdings held = holdings_of(srv.pid());
  const std::string names = thread_names(srv.pid());
  play_with_slow_one(srv, std::move(slow), label);
  // The viewers' pipeline ends with the last of them. (Their sessions stay
  // in the library's pool until the session timeout, 60 s here: a short
  // one would end the stuck viewer's session before its backlog is judged,
  // since a backlogged viewer is not kept alive by what it is sent.)
  double pipelines = NAN;
  EXPECT_TRUE(wait_until(
      [&] {
        pipelines = metric(srv, "gms_pipelines");
        return pipelines == 0;
      },
      20s))
      << pipelines << " pipelines\n" << srv.log_tail();
  // (The relay's reader thread of the viewers' media was seen to stay up
  // to 20 s after the last viewer.)
  EXPECT_TRUE(holdings_back(srv.pid(), held, names, 30s)) << srv.log_tail();
}

TEST_F(LoadFaults, SlowTcpReaderAmongTwentyViewersIsDropped) {
  ASSERT_GE(h264_key_frame().size(), 3u) << "ffmpeg made no key frame";
  ASSERT_NO_FATAL_FAILURE(serve_publish_paths());
  twenty_viewers_one_slow(*srv_, std::make_unique<SlowSocket>(*srv_, srv_->url("/live/f03")),
                          "1 KB/s reader");
}

TEST_F(LoadFaults, StoppedFfmpegAmongTwentyViewersIsDropped) {
  ASSERT_GE(h264_key_frame().size(), 3u) << "ffmpeg made no key frame";
  ASSERT_NO_FATAL_FAILURE(serve_publish_paths());
  twenty_viewers_one_slow(*srv_, std::make_unique<StoppedFfmpeg>(srv_->url("/live/f03")),
                          "ffmpeg SIGSTOP");
}

// ---- F04 ------------------------------------------------------------------

constexpr unsigned kFlood = 300;
constexpr unsigned kCap = 12;
constexpr unsigned kSessionTimeout = 4;

TEST_F(LoadFaults, DescribeAndSetupFloodsAreCappedAndReleased) {
  const char* src = g_getenv("GMS_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const uint16_t port = free_port();
  srv_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{write_temp_file(
          "flood.conf",
          "[server]\nverbose=1\nmax-pipelines=" + std::to_string(kCap) +
              "\nsession-timeout=" + std::to_string(kSessionTimeout) +
              "\n[path /ref]\nlaunch=" + std::string(kMjpeg) + "\n[path /origin]\nlaunch=" +
              kMjpeg + "\n[path /prox]\nproxy=rtsp://127.0.0.1:" + std::to_string(port) +
              "/origin\nbackend-transport=tcp\n[path /files]\nroot=" + src +
              "/data/media\nshared=false\n")},
      true, port, std::vector<std::string>{}, true);
  ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  const std::string file = srv_->url("/files/sample.mp4"), prox = srv_->url("/prox");
  // The file is probed once and the proxy's back end connected before the
  // floods (their first DESCRIBE may get 503 with Retry-After meanwhile).
  for (const std::string& url : {file, prox}) {
    ASSERT_TRUE(wait_until(
        [&] {
          RawRtsp c(srv_->port());
          return c.request(describe(url, 1)).status == 200 || (g_usleep(200000), false);
        },
        20s))
        << url << "\n" << srv_->log_tail();
  }
  auto ref = std::make_unique<PacketViewer>(srv_->port(), srv_->url("/ref"));
  ASSERT_TRUE(ref->ok() && receiving(*ref)) << ref->state() << "\n" << srv_->log_tail();
  const unsigned ref_join_gaps = ref->gaps();  // (the relay's splice at its join: not this case)
  // The baseline: the reference viewer, the proxy's shared media, nothing
  // of the warm-up's connections.
  Counts base;
  ASSERT_TRUE(wait_until(
      [&] {
        base = counts();
        // (The proxied path's back end is a connection and a session too.)
        return base.connections <= 2 && base.sessions <= 2;
      },
      20s))
      << text(base) << "\n" << srv_->log_tail();
  const Holdings held = holdings_of(srv_->pid());
  const std::string names = thread_names(srv_->pid());
  std::printf("F04 baseline: %s, %d fds, %d threads\n", text(base).c_str(), held.fds,
              held.threads);

  struct Round {
    const char* name;
    std::function<std::string(unsigned)> file_request, prox_request;
  };
  const std::vector<Round> rounds = {
      {"DESCRIBE", [&](unsigned) { return describe(file, 1); },
       [&](unsigned) { return describe(prox, 1); }},
      {"SETUP", [&](unsigned) { return setup_play(file + "/stream=0", 1); },
       [&](unsigned) { return setup_play(prox + "/stream=0", 1); }},
  };
  for (const Round& round : rounds) {
    SCOPED_TRACE(round.name);
    const unsigned ref_packets = ref->packets();
    double most = 0;
    std::vector<std::unique_ptr<RawRtsp>> file_conns, prox_conns;
    // The proxied path first: its viewers share one pipeline, which it
    // gets while places are free (a path not playing yet is refused like
    // any other once the file path's flood has taken the last place).
    FloodResult on_prox = flood(srv_->port(), kFlood, round.prox_request, prox_conns);
    most = std::max(most, metric(*srv_, "gms_pipelines"));
    FloodResult on_file = flood(srv_->port(), kFlood, round.file_request, file_conns);
    most = std::max(most, metric(*srv_, "gms_pipelines"));
    // A viewer of another live path joins during the flood (its media is
    // shared and running: it takes no new pipeline).
    Counts during;
    {
      PacketViewer joiner(srv_->port(), srv_->url("/ref"));
      EXPECT_TRUE(joiner.ok() && receiving(joiner, 20)) << joiner.state() << "\n"
                                                     << srv_->log_tail();
      during = counts();
    }
    most = std::max(most, during.pipelines);
    std::printf("F04 %s flood: file path %s; proxied path %s; during: %s, at most %g pipelines; "
                "refusal: %s\n",
                round.name, describe_text(on_file).c_str(), describe_text(on_prox).c_str(),
                text(during).c_str(), most, on_file.sample_refusal.c_str());
    // The cap: the file path's viewers beyond it are refused, with a reason
    // and Retry-After; the shared proxied media takes one place for all.
    EXPECT_LE(most, double(kCap));
    EXPECT_LE(on_file.ok, kCap);
    EXPECT_GE(on_file.refused, kFlood - 2 * kCap);
    EXPECT_EQ(on_file.refused_without_retry, 0u);
    EXPECT_EQ(on_file.refused_without_reason, 0u) << on_file.sample_refusal;
    EXPECT_EQ(on_file.other + on_file.unanswered, 0u) << on_file.sample_other;
    EXPECT_EQ(on_prox.ok, kFlood) << describe_text(on_prox) << " " << on_prox.sample_refusal
                                  << on_prox.sample_other;
    EXPECT_GE(metric(*srv_, "gms_pipeline_refusals_total"), double(on_file.refused));
    // The flooders keep their connections open and send nothing more: the
    // server releases their pipelines and sessions itself.
    Counts now;
    const auto t0 = Clock::now();
    EXPECT_TRUE(wait_until(
        [&] {
          now = counts();
          return now <= base;
        },
        std::chrono::seconds(3 * kSessionTimeout + 10)))
        << "still " << text(now) << " (baseline " << text(base) << ")\n" << srv_->log_tail();
    std::printf("F04 %s flood: back to %s %.1f s after its replies\n", round.name,
                text(now).c_str(), std::chrono::duration<double>(Clock::now() - t0).count());
    file_conns.clear();
    prox_conns.clear();
    EXPECT_TRUE(receiving(*ref)) << ref->state() << "\n" << srv_->log_tail();
    EXPECT_EQ(ref->gaps(), ref_join_gaps) << ref->state();
    std::printf("F04 %s flood: the reference viewer got %u packets meanwhile, %u gaps\n",
                round.name, ref->packets() - ref_packets, ref->gaps() - ref_join_gaps);
  }
  // New viewers of both flooded paths play.
  for (const std::string& url : {file, prox}) {
    PacketViewer fresh(srv_->port(), url);
    EXPECT_TRUE(fresh.ok() && receiving(fresh, 20)) << url << ": " << fresh.state() << "\n"
                                                << srv_->log_tail();
  }
  EXPECT_TRUE(holdings_back(srv_->pid(), held, names, std::chrono::seconds(kSessionTimeout + 20)));
  ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
}

}  // namespace
}  // namespace gms::test
