// Hostile back ends: each test proxies /bad to a scripted origin that
// misbehaves in one way, next to a healthy /good path with a viewer, and
// checks while it misbehaves that the server stays alive and answering (an
// RTSP OPTIONS on the front door and a GET on the HTTP API, each within 1 s),
// that the /good viewer keeps receiving, that the damage is bounded, and
// that SIGTERM then ends the server within 5 s.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "fake_origin.h"
#include "http_client.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// A field of /proc/PID/status ("Threads", "VmRSS" in kB); -1 if gone.
long proc_status(GPid pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

long open_fds(GPid pid) {
  GDir* dir = g_dir_open(("/proc/" + std::to_string(pid) + "/fd").c_str(), 0, nullptr);
  if (!dir)
    return -1;
  long n = 0;
  while (g_dir_read_name(dir))
    ++n;
  g_dir_close(dir);
  return n;
}

struct Peaks {
  long threads = 0, fds = 0, rss_kb = 0;
};

class BackendFaults : public ::testing::Test {
 protected:
  // The server, with /bad proxying `origin` and /good a shared live picture.
  void start(const FakeOrigin& origin) {
    std::string conf = "[server]\nverbose=1\n"
                       "[path /bad]\nproxy=" + origin.url() + "\ntimeout=2\n"
                       "[path /good]\nshared=true\nlaunch=" + std::string(kMjpeg) + "\n";
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{write_temp_file("faults.conf", conf)}, true, 0,
        std::vector<std::string>{}, true);
    ASSERT_TRUE(server_->ready()) << server_->log_tail();
    viewer_ = std::make_unique<Viewer>(server_->url("/good"), "tcp");
    ASSERT_TRUE(wait_until([&] { return viewer_->video_frames() >= 5; }, 20s))
        << viewer_->state() << server_->log_tail();
  }

  // For `duration`: the front door and the HTTP API answer within 1 s, the
  // /good viewer gets frames in every 2 s window, the process lives.
  Peaks expect_unaffected(std::chrono::seconds duration) {
    Peaks peaks;
    GPid pid = server_->pid();
    auto end = Clock::now() + duration;
    auto window = Clock::now();
    unsigned frames_at_window = viewer_->video_frames();
    int cseq = 1;
    while (Clock::now() < end) {
      EXPECT_TRUE(server_->alive()) << server_->log_tail();
      if (!server_->alive())
        return peaks;
      auto t0 = Clock::now();
      RawRtsp c(server_->port());
      RtspReply r = c.request(rtsp_request("OPTIONS", server_->url("/good"), cseq++, ""), 2s);
      long rtsp_ms = ms_since(t0);
      EXPECT_EQ(r.status, 200) << r.text;
      EXPECT_LT(rtsp_ms, 1000) << "RTSP OPTIONS took " << rtsp_ms << " ms";
      t0 = Clock::now();
      HttpReply h = http_get(server_->http_url("/api/v1/paths"));
      long http_ms = ms_since(t0);
      EXPECT_EQ(h.status, 200u) << h.error;
      EXPECT_LT(http_ms, 1000) << "HTTP GET took " << http_ms << " ms";
      peaks.threads = std::max(peaks.threads, proc_status(pid, "Threads"));
      peaks.rss_kb = std::max(peaks.rss_kb, proc_status(pid, "VmRSS"));
      peaks.fds = std::max(peaks.fds, open_fds(pid));
      if (Clock::now() - window >= 2s) {
        unsigned now = viewer_->video_frames();
        EXPECT_GT(now, frames_at_window) << "the /good viewer got nothing for 2 s";
        frames_at_window = now;
        window = Clock::now();
      }
      std::this_thread::sleep_for(200ms);
    }
    fprintf(stderr, "peaks: %ld threads, %ld fds, %ld MB resident; /good frames %u\n",
            peaks.threads, peaks.fds, peaks.rss_kb / 1024, viewer_->video_frames());
    return peaks;
  }

  // A viewer asking for /bad gets an answer (not the stream) in bounded time.
  void expect_bad_path_refused() {
    auto t0 = Clock::now();
    RawRtsp c(server_->port());
    RtspReply r = c.request(rtsp_request("DESCRIBE", server_->url("/bad"), 1, ""), 15s);
    EXPECT_EQ(r.status, 503) << r.text;
    EXPECT_LT(ms_since(t0), 7000);
  }

  void expect_sigterm_ends_it() {
    viewer_.reset();
    auto t0 = Clock::now();
    int status = server_->stop(5s);
    long ms = ms_since(t0);
    fprintf(stderr, "SIGTERM to exit: %ld ms, status %d\n", ms, status);
    EXPECT_NE(status, -1) << "still running 5 s after SIGTERM\n" << server_->log_tail();
    EXPECT_LT(ms, 5000);
    EXPECT_EQ(status, 0) << server_->log_tail();
  }

  void TearDown() override {
    viewer_.reset();
    server_.reset();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Viewer> viewer_;
};

TEST_F(BackendFaults, BareDigestChallengeDoesNotCrash) {
  FakeOrigin origin(Misbehaviour::kBareDigest);
  start(origin);
  expect_unaffected(6s);
  EXPECT_GE(origin.requests("OPTIONS"), 2u) << "the back end was not retried";
  EXPECT_TRUE(server_->log_contains("proxy /bad")) << server_->log_tail();
  expect_bad_path_refused();
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, EndlessHeadersAreCutOff) {
  FakeOrigin origin(Misbehaviour::kEndlessHeaders);
  start(origin);
  Peaks p = expect_unaffected(13s);
  fprintf(stderr, "endless headers: %llu MB sent in %u connection(s)\n",
          static_cast<unsigned long long>(origin.bytes_streamed() >> 20), origin.connections());
  EXPECT_GE(origin.connections(), 2u) << "the session was never given up";
  EXPECT_LT(p.rss_kb, 400 * 1024);
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, LargeSdp64KB) {
  FakeOrigin origin(Misbehaviour::kLargeSdp, 64 << 10);
  start(origin);
  expect_unaffected(13s);
  EXPECT_GE(origin.requests("DESCRIBE"), 2u);
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, LargeSdp1MB) {
  FakeOrigin origin(Misbehaviour::kLargeSdp, 1 << 20);
  start(origin);
  expect_unaffected(13s);
  EXPECT_GE(origin.requests("DESCRIBE"), 2u);
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, PlayThenSilence) {
  FakeOrigin origin(Misbehaviour::kPlayThenSilent);
  start(origin);
  expect_unaffected(13s);
  EXPECT_GE(origin.requests("PLAY"), 2u) << "the silent session was never given up";
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, FiveHundredTracksAreCapped) {
  FakeOrigin origin(Misbehaviour::kManyTracks, 500);
  start(origin);
  Peaks p = expect_unaffected(8s);
  EXPECT_GE(origin.requests("SETUP"), 1u);
  EXPECT_LE(origin.max_setups_per_connection(), 8u);
  EXPECT_LT(p.threads, 200);
  EXPECT_LT(p.fds, 300);
  expect_sigterm_ends_it();
}

TEST_F(BackendFaults, RedirectToItselfIsBounded) {
  FakeOrigin origin(Misbehaviour::kRedirectToSelf);
  start(origin);
  expect_unaffected(10s);
  unsigned n = origin.requests("DESCRIBE") + origin.requests("OPTIONS");
  fprintf(stderr, "redirect loop: %u OPTIONS/DESCRIBE in ~10 s, %u connections\n", n,
          origin.connections());
  EXPECT_GE(origin.requests("DESCRIBE"), 2u);
  // Unbounded, this is thousands a second.
  EXPECT_LE(n, 60u);
  expect_sigterm_ends_it();
}

}  // namespace
}  // namespace gms::test
