// Hostile and unlucky clients: what the front door echoes back, a file
// session's Range after a bounded one, a publisher that stops without
// leaving, a file whose probe is slow (the probe cache with a probe held
// open, since real files probe in milliseconds). Each case asserts the correct
// behaviour and that the server and other clients are unaffected.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "child.h"
#include "core/request_cseq.h"
#include "media_fixtures.h"
#include "mounts/media_probe.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string session_of(const RtspReply& r) {
  std::string id = r.header("Session");
  return id.substr(0, id.find(';'));
}

bool rtp_marker(const std::string& p) { return p.size() > 1 && (uint8_t(p[1]) & 0x80); }

// An RTCP compound packet holding a BYE (packet type 203).
bool rtcp_bye(const std::string& p) {
  size_t off = 0;
  while (off + 4 <= p.size()) {
    if (uint8_t(p[off + 1]) == 203)
      return true;
    off += 4 * (((size_t(uint8_t(p[off + 2])) << 8) | uint8_t(p[off + 3])) + 1);
  }
  return false;
}

// DESCRIBE, SETUP of stream 0 over TCP (channels 0-1), PLAY by hand.
struct TcpViewer {
  RawRtsp conn;
  std::string url, session;
  int cseq = 1;
  TcpViewer(uint16_t port, std::string u) : conn(port), url(std::move(u)) {}

  RtspReply send(const std::string& method, const std::string& target,
                 const std::string& headers = "") {
    return conn.request(rtsp_request(method, target, cseq++, session, headers), 30s);
  }
  int describe() { return send("DESCRIBE", url, "Accept: application/sdp\r\n").status; }
  int setup0() {
    RtspReply r = send("SETUP", url + "/stream=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    if (r.status == 200)
      session = session_of(r);
    return r.status;
  }
  RtspReply play(const std::string& range = "") {
    return send("PLAY", url, range.empty() ? "" : "Range: " + range + "\r\n");
  }
  // Video frames (marker bits on channel 0) until `frames`, the BYE on
  // channel 1, or the deadline.
  struct Seen {
    unsigned frames = 0;
    bool bye = false;
    Clock::time_point bye_at{};
  };
  Seen read(unsigned frames, std::chrono::milliseconds timeout) {
    Seen s;
    auto end = Clock::now() + timeout;
    while (s.frames < frames && !s.bye && Clock::now() < end) {
      RawRtsp::Frame f = conn.read_interleaved(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()));
      if (f.channel < 0)
        break;
      if (f.channel == 0 && f.data.size() >= 12)
        s.frames += rtp_marker(f.data) ? 1 : 0;
      else if (f.channel == 1 && rtcp_bye(f.data)) {
        s.bye = true;
        s.bye_at = Clock::now();
      }
    }
    return s;
  }
};

// --- What the front door echoes -------------------------------------------

TEST(CSeqParse, OnlyAPlainNumberOfTheFirstCSeqLine) {
  EXPECT_EQ(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: 12\r\n\r\n"), 12u);
  EXPECT_EQ(request_cseq("OPTIONS * RTSP/1.0\ncseq:7\n\n"), 7u);
  EXPECT_EQ(request_cseq("OPTIONS * RTSP/1.0\nX: 1\nCSEQ:  3 \r\n"), 3u);
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: 1 evil\r\n\r\n"));
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: -1\r\n\r\n"));
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: 1234567890\r\n\r\n"));
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: \r\n\r\n"));
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\nCSeq: 12"));  // cut off: may go on
  EXPECT_FALSE(request_cseq("OPTIONS * RTSP/1.0\r\n\r\nCSeq: 5\r\n"));  // in the body
  EXPECT_FALSE(request_cseq("CSeq: 5\r\n"));  // the request line is not a header
  EXPECT_FALSE(request_cseq(""));
}

class FrontDoorEcho : public testing::Test {
 protected:
  void SetUp() override {
    srv_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--mount", "/a=( videotestsrc is-live=true ! jpegenc ! rtpjpegpay name=pay0 )"});
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  }
  // The reply holds the status and the CSeq number, nothing of the
  // request's other lines, and is short.
  void expect_clean(const RtspReply& r, int status, const std::string& cseq) {
    EXPECT_EQ(r.status, status) << r.text;
    EXPECT_EQ(r.header("CSeq"), cseq) << r.text;
    EXPECT_EQ(r.text.find("X-Injected"), std::string::npos) << r.text;
    EXPECT_LT(r.text.size(), 256u) << r.text.substr(0, 512);
  }
  std::unique_ptr<ServerProcess> srv_;
};

// Bare-LF lines after the CSeq: the old answer copied up to the next CR,
// that is every following line the client chose.
std::string bare_lf_head(const std::string& cseq_line) {
  return "OPTIONS * RTSP/1.0\n" + cseq_line + "\nX-Injected: yes\nX-Injected-Too: yes\n";
}

TEST_F(FrontDoorEcho, BadRequestEchoesTheNumberOnly) {
  RawRtsp c(srv_->port());
  // Over 4 KB of header lines before the NUL byte: the front door has read
  // (and keeps) the CSeq line by the time it refuses.
  std::string req = bare_lf_head("CSeq: 41");
  while (req.size() < 6000)
    req += "X-Pad: " + std::string(100, 'p') + "\n";
  req += std::string("\0\n\n", 3);
  ASSERT_TRUE(c.send(req));
  expect_clean(c.read_reply(10s), 400, "41");
}

TEST_F(FrontDoorEcho, HeadersTooLargeEchoesTheNumberOnly) {
  RawRtsp c(srv_->port());
  std::string req = bare_lf_head("CSeq: 42");
  while (req.size() < 70000)
    req += "X-Pad: " + std::string(100, 'p') + "\n";
  ASSERT_TRUE(c.send(req));
  RtspReply r = c.read_reply(10s);
  expect_clean(r, 431, "42");
  std::printf("431 reply: %zu bytes\n", r.text.size());
}

TEST_F(FrontDoorEcho, AnInvalidCSeqIsNotEchoed) {
  RawRtsp c(srv_->port());
  std::string req = bare_lf_head("CSeq: 43 X-Evil: 1");
  while (req.size() < 70000)
    req += "X-Pad: " + std::string(100, 'p') + "\n";
  ASSERT_TRUE(c.send(req));
  RtspReply r = c.read_reply(10s);
  expect_clean(r, 431, "");
  EXPECT_EQ(r.text.find("X-Evil"), std::string::npos) << r.text;
}

TEST_F(FrontDoorEcho, ServerStillServes) {
  for (int i = 0; i < 3; ++i) {
    RawRtsp bad(srv_->port());
    ASSERT_TRUE(bad.send(bare_lf_head("CSeq: 1") + std::string(70000, 'x')));
    EXPECT_EQ(bad.read_reply(10s).status, 431);
  }
  RawRtsp good(srv_->port());
  RtspReply r = good.request("DESCRIBE " + srv_->url("/a") + " RTSP/1.0\r\nCSeq: 9\r\n\r\n");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.header("CSeq"), "9");
}

// --- A file session's Range after a bounded one ---------------------------

TEST(FileRange, OpenEndedRangeAfterABoundedOnePlaysToTheEnd) {
  std::string dir = make_media_dir({"h264_aac.mp4", "vp8_vorbis.webm"});
  ServerProcess srv({"--root", dir});
  ASSERT_TRUE(srv.ready());
  for (const char* file : {"/h264_aac.mp4", "/vp8_vorbis.webm"}) {
    TcpViewer v(srv.port(), srv.url(file));
    ASSERT_EQ(v.describe(), 200) << file;
    ASSERT_EQ(v.setup0(), 200) << file;
    RtspReply r = v.play("npt=0.5-0.6");
    ASSERT_EQ(r.status, 200) << file << r.text;
    v.read(1, 5s);
    r = v.play("npt=1-");
    EXPECT_EQ(r.status, 200) << file << r.text << srv.log_tail();
    // 10 frames a second from 1 s to the end at 5 s; the old stop (0.6 s)
    // would have ended it at once.
    TcpViewer::Seen seen = v.read(30, 20s);
    EXPECT_GE(seen.frames, 30u) << file << srv.log_tail();
    // And back to a bounded one, then open again at the start.
    r = v.play("npt=2-2.5");
    EXPECT_EQ(r.status, 200) << file << r.text;
    r = v.play("npt=0-");
    EXPECT_EQ(r.status, 200) << file << r.text;
  }
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << srv.log();
  EXPECT_EQ(srv.stop(), 0) << srv.log_tail();
}

// --- A publisher that stops without leaving -------------------------------

TEST(SilentPublisher, ViewersEndWithinTheTimeoutAndASecond) {
  constexpr int kTimeout = 2;
  ServerProcess srv({write_temp_file(
      "p.conf", "[path /live]\npublish=true\npublisher-timeout=" + std::to_string(kTimeout) + "\n")});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  Child pub(ffmpeg_publisher(srv.url("/live"), "tcp", 120, false, "160x120"));
  ASSERT_TRUE(wait_published(srv, "/live")) << srv.log_tail() << pub.output();
  TcpViewer v(srv.port(), srv.url("/live"));
  ASSERT_EQ(v.describe(), 200);
  ASSERT_EQ(v.setup0(), 200);
  ASSERT_EQ(v.play().status, 200);
  ASSERT_GE(v.read(20, 20s).frames, 20u) << srv.log_tail();
  // Stopped, its TCP connection open: nothing more arrives from it.
  pub.signal(SIGSTOP);
  auto stopped = Clock::now();
  TcpViewer::Seen seen = v.read(100000, 20s);
  ASSERT_TRUE(seen.bye) << srv.log_tail();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(seen.bye_at - stopped);
  RecordProperty("bye_after_stop_ms", int(took.count()));
  std::printf("viewer's BYE %lld ms after the publisher stopped\n", (long long)took.count());
  EXPECT_LE(took.count(), (kTimeout + 1) * 1000) << srv.log_tail();
  EXPECT_GE(took.count(), kTimeout * 1000 - 500) << "ended before publisher-timeout";
  EXPECT_TRUE(wait_until([&] { return srv.log_contains("publisher cut off: sent nothing"); }, 10s))
      << srv.log_tail();
  pub.signal(SIGKILL);
  EXPECT_EQ(srv.stop(), 0) << srv.log_tail();
}

// --- A file whose probe is slow -------------------------------------------

// A probe that lasts until the test lets it end, as a file that takes the
// whole probe timeout would. Shared with the probe threads, which may
// outlive the test.
struct HeldProbe : std::enable_shared_from_this<HeldProbe> {
  std::mutex lock;
  std::condition_variable cond;
  bool released = false;
  std::atomic<int> calls{0};
  mounts::MediaInfo result;

  mounts::ProbeCache::ProbeFn fn() {
    return [self = shared_from_this()](const std::string&, std::chrono::milliseconds) {
      self->calls++;
      std::unique_lock<std::mutex> g(self->lock);
      self->cond.wait(g, [&] { return self->released; });
      return self->result;
    };
  }
  void release() {
    std::lock_guard<std::mutex> g(lock);
    released = true;
    cond.notify_all();
  }
};

long ms_since(Clock::time_point t) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

TEST(SlowProbe, ClientWaitsABoundedTimeAndTheResultIsShared) {
  auto owner = std::make_shared<HeldProbe>();
  HeldProbe& held = *owner;
  held.result.ok = true;
  mounts::ProbeCache cache(16, 1, held.fn());
  mounts::FileIdentity id{1, 2, 3, 4};
  // The first client waits the bound, not the probe.
  auto t0 = Clock::now();
  EXPECT_FALSE(cache.get("/slow.ts", id, 10s, 200ms));
  EXPECT_GE(ms_since(t0), 190);
  EXPECT_LT(ms_since(t0), 2000);
  // Another client of the same file joins the probe under way.
  std::thread other([&] { EXPECT_FALSE(cache.get("/slow.ts", id, 10s, 100ms)); });
  other.join();
  EXPECT_EQ(held.calls.load(), 1);
  // Another file while the only probe slot is taken: answered at once.
  t0 = Clock::now();
  EXPECT_FALSE(cache.get("/other.mp4", id, 10s, 5s));
  EXPECT_LT(ms_since(t0), 1000);
  // The probe ends: the next ask has the result, and it is cached.
  held.release();
  std::shared_ptr<const mounts::MediaInfo> info;
  EXPECT_TRUE(wait_until([&] { return bool(info = cache.get("/slow.ts", id, 10s, 1s)); }, 10s));
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->ok);
  bool cached = false;
  EXPECT_TRUE(cache.get("/slow.ts", id, 10s, 0ms, &cached));
  EXPECT_TRUE(cached);
  EXPECT_EQ(held.calls.load(), 1);
  // A new version of the file is probed again.
  mounts::FileIdentity changed = id;
  changed.size = 99;
  EXPECT_TRUE(wait_until([&] { return bool(cache.get("/slow.ts", changed, 10s, 1s)); }, 10s));
  EXPECT_EQ(held.calls.load(), 2);
}

// A probe that gave up is the answer for a while (the client told to come
// back gets it), not probed again at each ask.
TEST(SlowProbe, ATimedOutProbeIsKeptForAWhile) {
  auto owner = std::make_shared<HeldProbe>();
  HeldProbe& held = *owner;
  held.result.timed_out = true;
  held.result.reason = "timed out";
  held.release();
  mounts::ProbeCache cache(16, 4, held.fn());
  mounts::FileIdentity id{1, 2, 3, 4};
  std::shared_ptr<const mounts::MediaInfo> info;
  EXPECT_TRUE(wait_until([&] { return bool(info = cache.get("/slow.ts", id, 10s, 1s)); }, 10s));
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->timed_out);
  EXPECT_TRUE(cache.get("/slow.ts", id, 10s, 0ms));
  EXPECT_EQ(held.calls.load(), 1);
}

// Every probe thread started is a bounded one: a burst of slow files
// starts at most max_running probes; the rest are answered at once.
TEST(SlowProbe, ABurstOfSlowFilesStartsBoundedProbes) {
  auto owner = std::make_shared<HeldProbe>();
  HeldProbe& held = *owner;
  held.result.ok = true;
  mounts::ProbeCache cache(64, 3, held.fn());
  mounts::FileIdentity id{1, 2, 3, 4};
  auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i)
    EXPECT_FALSE(cache.get("/f" + std::to_string(i), id, 10s, 10ms));
  EXPECT_LT(ms_since(t0), 3000);
  EXPECT_TRUE(wait_until([&] { return held.calls.load() == 3; }, 5s));
  EXPECT_EQ(held.calls.load(), 3);
  held.release();
}

}  // namespace
}  // namespace gms::test
