// Publisher faults that concern the path rather than the stream: a UDP
// publisher killed with SIGKILL (its RTSP connection closes, no TEARDOWN,
// no interleaved data to notice the end by), published path names that
// try to lead the recorder out of its directory, and publishers racing for
// one path. A viewer of another path watches each case and must lose
// nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child.h"
#include "key_frame_nals.h"
#include "mark_viewer.h"
#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtp_publisher.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string temp_tree() {
  std::string f = write_temp_file("x", "");
  return f.substr(0, f.rfind('/'));
}

// `text` with what is not UTF-8 replaced (the server's log can quote the
// names sent here, and test reports are XML).
std::string printable(const std::string& text) {
  GCharPtr valid(g_utf8_make_valid(text.data(), gssize(text.size())));
  return valid.get();
}

// fds and threads are back to `base` within the session timeout (5 s
// here) and 5 s; false with the figures in `why`.
bool back_to(GPid pid, const Holdings& base, std::string& why) {
  Holdings now;
  const gint64 t0 = g_get_monotonic_time();
  bool back = wait_until(
      [&] {
        now = holdings_of(pid);
        return now.fds <= base.fds && now.threads <= base.threads &&
               now.pool_threads <= base.pool_threads + 2;
      },
      30s);
  why = "fds " + std::to_string(base.fds) + " -> " + std::to_string(now.fds) + ", threads " +
        std::to_string(base.threads) + " -> " + std::to_string(now.threads) + " (" +
        thread_names(pid) + ")";
  std::printf("%s after %.1f s\n", why.c_str(), double(g_get_monotonic_time() - t0) / 1e6);
  return back;
}

// Every file and directory under `dir`, by path.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  RunResult r = run({"find", dir}, 20s);
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l)
    if (**l)
      out.insert(*l);
  return out;
}

// The answer to an ANNOUNCE of `path` by a new publisher, retried until
// 200 or `timeout`; `took` the time until the 200 (or the timeout).
RtspReply announce_until_taken(ServerProcess& srv, const std::string& path,
                               std::chrono::milliseconds timeout, std::chrono::milliseconds& took) {
  const auto t0 = Clock::now();
  RtspReply r;
  wait_until(
      [&] {
        RawRtsp raw(srv.port());
        r = raw.request(announce(srv.url(path), h264_sdp(), 1));
        return r.status == 200;
      },
      timeout);
  took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  return r;
}

TEST(PublishPathFaults, KilledUdpPublisherEndsViewersAndFreesThePath) {
  // publisher-timeout=1: viewers are kept 1 s for a publisher that comes
  // back (the default is 5 s), as in the TCP publisher's case.
  ServerProcess srv({write_temp_file("g03.conf", "[server]\nverbose=1\nsession-timeout=5\n[path /ref]\nlaunch=" +
                                                     std::string(kMjpeg) +
                                                     "\n[path /g]\npublish=true\npublisher-timeout=1\n")});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  PacketViewer ref(srv.port(), srv.url("/ref"));
  ASSERT_TRUE(ref.ok() && ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  const Holdings base = holdings_of(srv.pid());

  // 1. The viewers get their end.
  Child a(ffmpeg_publisher(srv.url("/g"), "udp", 60, false, "160x120"));
  ASSERT_TRUE(wait_published(srv, "/g")) << srv.log_tail() << a.output();
  {
    Viewer v(srv.url("/g"), "udp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.state();
    a.signal(SIGKILL);
    a.wait(5000);
    const auto t0 = Clock::now();
    EXPECT_TRUE(wait_until([&] { return v.got_eos() || !v.error().empty(); }, 15s))
        << v.state() << "\n" << srv.log_tail();
    const auto ended = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    std::printf("UDP publisher killed: its viewer ended after %lld ms (publisher-timeout 1 s)\n",
                (long long)ended.count());
    EXPECT_LE(ended.count(), 2500) << "viewers wait too long for the end\n" << srv.log_tail();
  }
  // 2. The path is free at once: nothing says "already has a publisher".
  Child b(ffmpeg_publisher(srv.url("/g"), "udp", 60, false, "160x120"));
  ASSERT_TRUE(wait_published(srv, "/g")) << srv.log_tail() << b.output();
  b.signal(SIGKILL);
  b.wait(5000);
  std::chrono::milliseconds took{};
  RtspReply second = announce_until_taken(srv, "/g", 10s, took);
  std::printf("UDP publisher killed: a new publisher's ANNOUNCE taken after %lld ms\n",
              (long long)took.count());
  EXPECT_EQ(second.status, 200) << second.text << "\n" << srv.log_tail();
  EXPECT_LE(took.count(), 1500) << "the path stays taken\n" << srv.log_tail();
  // 3. And a real one streams to new viewers.
  {
    Child c(ffmpeg_publisher(srv.url("/g"), "udp", 60, false, "160x120"));
    ASSERT_TRUE(wait_published(srv, "/g")) << srv.log_tail() << c.output();
    Viewer w(srv.url("/g"), "udp");
    EXPECT_TRUE(wait_until([&] { return w.video_frames() >= 15; }, 20s)) << w.state();
    c.signal(SIGKILL);
    c.wait(5000);
  }
  EXPECT_TRUE(ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << srv.log_tail();
  std::string why;
  EXPECT_TRUE(back_to(srv.pid(), base, why)) << why;
}

// Names that would put a recording outside its directory, or that no
// directory can have: refused at ANNOUNCE, and nothing appears in the test's
// temporary tree outside the record root (which sits four levels down, so
// that every "../" leads somewhere inside the tree we look at).
TEST(PublishPathFaults, TraversalNamesAreRefusedAndNothingLeavesTheRecordRoot) {
  const std::string tree = temp_tree();
  const std::string root = tree + "/a/b/c/rec";
  ASSERT_EQ(g_mkdir_with_parents(root.c_str(), 0755), 0);
  const bool tmp_x_existed = g_file_test("/tmp/x", G_FILE_TEST_EXISTS);
  ServerProcess srv({write_temp_file("i04.conf", "[server]\nverbose=1\nsession-timeout=5\nrecord-dir=" + root +
                                                     "\n[path /ref]\nlaunch=" + kMjpeg +
                                                     "\nrecord=false\n[path /live/*]\npublish=true\n")});
  ASSERT_TRUE(srv.ready()) << printable(srv.log_tail());
  PacketViewer ref(srv.port(), srv.url("/ref"));
  ASSERT_TRUE(ref.ok() && ref.flowing()) << ref.state() << "\n" << printable(srv.log_tail());
  const std::set<std::string> before = listing(tree);
  const Holdings held = holdings_of(srv.pid());

  const std::string base = "rtsp://127.0.0.1:" + std::to_string(srv.port());
  const std::vector<std::string> names = {
      "/live/../../tmp/x",
      "/live/../../../../x",
      "/live/..%2f..%2ftmp%2fx",
      "/live/%2e%2e/%2e%2e/tmp/x",
      "/live/%2E%2E%2F%2E%2E%2Fx",
      "/live/..\\..\\x",
      "/live/x%00y",
      "/live/x%00/../../../y",
      "/live/x\ny",
      "/live/x%0ay",
      "/live/x%0d%0aCSeq: 9",
      "/live/" + std::string(300, 'a'),
      "/live/" + std::string(3, 'b') + "/" + std::string(260, 'c'),
      "/live/\xff\xfe\xfd",
      "/live/%ff%fe%fd",
      "/live/%c0%ae%c0%ae/x",
      "/live/.",
      "/live/./../x",
  };
  for (const std::string& name : names) {
    RawRtsp raw(srv.port());
    RtspReply r = raw.request(announce(base + name, h264_sdp(), 1));
    GCharPtr shown(g_strescape(name.substr(0, 60).c_str(), nullptr));
    EXPECT_TRUE(r.status == 400 || r.status == 404)
        << shown.get() << ": " << r.status << "\n" << printable(r.text.substr(0, 200));
    if (r.status == 200) {
      // Taken: see where its recording goes.
      RtspReply s = raw.request(setup_record(base + name + "/streamid=0", 2));
      raw.request(record(base + name, session_id(s.header("Session")), 3));
      for (int i = 0; i < 30; ++i)
        raw.send(interleaved(0, rtp_packet(96, uint16_t(i), uint32_t(i * 3000), 1,
                                           std::string("\x41\x9a\x01\x02", 4))));
      g_usleep(300000);
    }
  }
  // A plain name is published and recorded, so the recorder did run.
  {
    std::vector<std::string> key = key_frame_nals(false);
    ASSERT_GE(key.size(), 3u) << "ffmpeg made no key frame";
    RawRtsp raw(srv.port());
    ASSERT_EQ(raw.request(announce(srv.url("/live/plain"), h264_sdp(), 1)).status, 200);
    RtspReply s = raw.request(setup_record(srv.url("/live/plain") + "/streamid=0", 2));
    ASSERT_EQ(raw.request(record(srv.url("/live/plain"), session_id(s.header("Session")), 3)).status,
              200);
    uint16_t seq = 0;
    EXPECT_TRUE(wait_until(
        [&] {
          uint32_t ts = uint32_t(g_get_monotonic_time() * 9 / 100);
          for (size_t i = 0; i < key.size(); ++i)
            raw.send(interleaved(0, rtp_packet(96, seq++, ts, 1, key[i], i + 1 == key.size())));
          g_usleep(66000);
          return srv.log_contains("recording /live/plain into");
        },
        20s))
        << printable(srv.log_tail());
  }
  const std::set<std::string> after = listing(tree);
  for (const std::string& p : after) {
    if (!before.count(p)) {
      EXPECT_EQ(p.rfind(root + "/", 0), 0u) << "written outside the record root: " << p;
    }
  }
  EXPECT_EQ(tmp_x_existed, g_file_test("/tmp/x", G_FILE_TEST_EXISTS));
  EXPECT_TRUE(srv.alive());
  EXPECT_TRUE(ref.flowing()) << ref.state() << "\n" << printable(srv.log_tail());
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << printable(srv.log_tail());
  std::string why;
  EXPECT_TRUE(back_to(srv.pid(), held, why)) << why;
}

// --- G04: publishers racing for one path --------------------------------

// Two publishers' ANNOUNCEs, each sent by a thread of its own as one
// barrier releases both; `spread_ms` is how far apart they left.
struct Race {
  RtspReply first, second;
  double spread_ms = 0;
};

Race race_announces(RtpPublisher& a, RtpPublisher& b) {
  Race r;
  std::barrier start(2);
  Clock::time_point ta, tb;
  std::thread other([&] {
    start.arrive_and_wait();
    tb = Clock::now();
    r.second = b.announce();
  });
  start.arrive_and_wait();
  ta = Clock::now();
  r.first = a.announce();
  other.join();
  r.spread_ms = std::abs(std::chrono::duration<double, std::milli>(ta - tb).count());
  return r;
}

// What a racing publisher sends to tell its packets from the others': a
// filler NAL unit with its mark before each picture.
std::string mark_of(size_t publisher) { return "G04-PUBLISHER-" + std::to_string(publisher) + "-"; }
std::string marked_lead(size_t publisher) {
  return std::string(1, '\x0c') + mark_of(publisher) + std::string(64, '\xff');
}

// A publisher that has recorded sends a marked picture every 40 ms until it
// is stopped or the server stops taking its packets.
class Streamer {
 public:
  Streamer(RtpPublisher& pub, size_t index)
      : thread_([this, &pub, lead = marked_lead(index)] {
          while (!stop_ && pub.send_frame(lead))
            g_usleep(40000);
          done_ = true;
        }) {}
  ~Streamer() {
    stop_ = true;
    thread_.join();
  }
  bool running() const { return !done_; }

 private:
  std::atomic<bool> stop_{false}, done_{false};
  std::thread thread_;
};

// Rounds of two ANNOUNCEs of one path released together: exactly one is
// taken (200), the other refused with the path's reason (403), whether the
// path is a configured one freed by the last winner's TEARDOWN or a new one
// made under a pattern by the race itself; the winner then streams, and the
// path plays.
TEST(PublishPathFaults, RacingAnnouncesLeaveExactlyOnePublisher) {
  ServerProcess srv({write_temp_file("g04.conf", "[server]\nverbose=1\nsession-timeout=5\n[path /ref]\nlaunch=" +
                                                     std::string(kMjpeg) +
                                                     "\n[path /race]\npublish=true\n[path /live/*]\npublish=true\n")});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  PacketViewer ref(srv.port(), srv.url("/ref"));
  ASSERT_TRUE(ref.ok() && ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  const Holdings base = holdings_of(srv.pid());

  int rounds = 0, tight = 0;
  double widest = 0;
  const auto t0 = Clock::now();
  for (; rounds < 20 && Clock::now() - t0 < 120s; ++rounds) {
    const std::string path = rounds % 2 ? "/live/r" + std::to_string(rounds) : "/race";
    RtpPublisher a(srv, path), b(srv, path);
    Race r = race_announces(a, b);
    widest = std::max(widest, r.spread_ms);
    tight += r.spread_ms <= 10;
    const bool a_won = r.first.status == 200;
    RtspReply& lost = a_won ? r.second : r.first;
    ASSERT_EQ((r.first.status == 200) + (r.second.status == 200), 1)
        << "round " << rounds << " " << path << ": " << r.first.status << " and " << r.second.status
        << " (" << r.spread_ms << " ms apart)\n" << r.first.text << r.second.text << srv.log_tail();
    EXPECT_EQ(lost.status, 403) << lost.text;
    EXPECT_NE(lost.text.find("already has a publisher"), std::string::npos) << lost.text;
    RtpPublisher& winner = a_won ? a : b;
    ASSERT_TRUE(winner.setup_and_record(false)) << "round " << rounds << "\n" << srv.log_tail();
    {
      Streamer s(winner, 0);
      EXPECT_TRUE(wait_published(srv, path, 10000)) << "round " << rounds << "\n" << srv.log_tail();
    }
    EXPECT_EQ(winner.teardown().status, 200) << "round " << rounds;
  }
  std::printf("G04: %d rounds, %d with the ANNOUNCEs within 10 ms of each other (widest %.1f ms)\n",
              rounds, tight, widest);
  EXPECT_EQ(rounds, 20);
  EXPECT_GE(tight, 10) << "too few rounds raced within 10 ms";
  EXPECT_TRUE(srv.alive());
  EXPECT_TRUE(ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  EXPECT_EQ(ref.gaps(), 0u) << ref.state();
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << srv.log_tail();
  std::string why;
  EXPECT_TRUE(back_to(srv.pid(), base, why)) << why;
}

// On a path with override=true, while two viewers watch: a publisher
// streams, then two new ones race with their ANNOUNCEs, round after round.
// Both are taken (each replaces the publisher of the moment), the one
// replaced is cut off, and exactly one stays. The viewers stay, get the
// survivor's pictures, and never a mix: each publisher's packets come as
// one run, never again after another publisher's.
TEST(PublishPathFaults, RacingOverridesNeverInterleaveForViewers) {
  ServerProcess srv({write_temp_file("g04o.conf", "[server]\nverbose=1\nsession-timeout=5\n[path /ref]\nlaunch=" +
                                                      std::string(kMjpeg) +
                                                      "\n[path /ov]\npublish=true\noverride=true\n")});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  PacketViewer ref(srv.port(), srv.url("/ref"));
  ASSERT_TRUE(ref.ok() && ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  constexpr size_t kRounds = 8;
  std::vector<std::string> marks;
  for (size_t i = 0; i <= 2 * kRounds; ++i)
    marks.push_back(mark_of(i));

  std::vector<std::unique_ptr<RtpPublisher>> pubs;
  std::vector<std::unique_ptr<Streamer>> streams;
  pubs.push_back(std::make_unique<RtpPublisher>(srv, "/ov", false));
  ASSERT_TRUE(pubs[0]->ok()) << pubs[0]->announced().text << srv.log_tail();
  streams.push_back(std::make_unique<Streamer>(*pubs[0], 0));
  ASSERT_TRUE(wait_published(srv, "/ov")) << srv.log_tail();
  MarkViewer v1(srv.port(), srv.url("/ov"), marks), v2(srv.port(), srv.url("/ov"), marks);
  ASSERT_TRUE(v1.ok() && v2.ok()) << srv.log_tail();
  ASSERT_TRUE(wait_until([&] { return v1.marked(0) >= 10 && v2.marked(0) >= 10; }, 10s))
      << v1.runs_text() << " / " << v2.runs_text() << "\n" << srv.log_tail();

  size_t current = 0;
  int tight = 0, unanswered = 0;
  for (size_t round = 0; round < kRounds; ++round) {
    const size_t ia = 2 * round + 1, ib = 2 * round + 2;
    pubs.push_back(std::make_unique<RtpPublisher>(srv, "/ov"));
    pubs.push_back(std::make_unique<RtpPublisher>(srv, "/ov"));
    Race r = race_announces(*pubs[ia], *pubs[ib]);
    tight += r.spread_ms <= 10;
    // Each is taken; one replaced while its ANNOUNCE is still being
    // handled is cut off before its answer (no reply, connection closed).
    EXPECT_TRUE(r.first.status == 200 || r.first.status == 0) << "round " << round << "\n" << r.first.text;
    EXPECT_TRUE(r.second.status == 200 || r.second.status == 0) << "round " << round << "\n" << r.second.text;
    unanswered += (r.first.status == 0) + (r.second.status == 0);
    // Each goes on as a publisher would (SETUP, RECORD, pictures); the one
    // replaced fails on the way or is cut off later.
    bool b_recorded = false;
    std::thread setup_b([&] { b_recorded = pubs[ib]->setup_and_record(false); });
    const bool a_recorded = pubs[ia]->setup_and_record(false);
    setup_b.join();
    auto sa = a_recorded ? std::make_unique<Streamer>(*pubs[ia], ia) : nullptr;
    auto sb = b_recorded ? std::make_unique<Streamer>(*pubs[ib], ib) : nullptr;
    const Streamer& before = *streams.back();
    auto alive = [](const std::unique_ptr<Streamer>& s) { return s && s->running(); };
    ASSERT_TRUE(wait_until([&] { return alive(sa) + alive(sb) + before.running() <= 1; }, 10s))
        << "round " << round << ": more than one publisher kept\n" << srv.log_tail();
    const size_t survivor = alive(sa) ? ia : alive(sb) ? ib : SIZE_MAX;
    ASSERT_NE(survivor, SIZE_MAX) << "round " << round << ": no publisher left (" << r.first.status
                                  << ", " << r.second.status << ", " << r.spread_ms << " ms)\n"
                                  << srv.log_tail();
    EXPECT_EQ((survivor == ia ? r.first : r.second).status, 200) << "round " << round;
    const unsigned got1 = v1.marked(survivor), got2 = v2.marked(survivor);
    EXPECT_TRUE(wait_until([&] { return v1.marked(survivor) >= got1 + 25 && v2.marked(survivor) >= got2 + 25; },
                           10s))
        << "round " << round << ": the survivor's pictures do not reach the viewers: "
        << v1.runs_text() << " / " << v2.runs_text() << "\n" << srv.log_tail();
    streams.push_back(alive(sa) ? std::move(sa) : std::move(sb));
    current = survivor;
  }
  for (const MarkViewer* v : {&v1, &v2}) {
    std::vector<size_t> runs = v->runs();
    std::set<size_t> seen;
    for (size_t i : runs)
      EXPECT_TRUE(seen.insert(i).second) << "publisher " << i << " again after another: "
                                         << v->runs_text();
    ASSERT_FALSE(runs.empty());
    EXPECT_EQ(runs.back(), current) << v->runs_text();
    EXPECT_FALSE(v->closed());
  }
  std::printf("G04 override: %zu rounds (%d with the ANNOUNCEs within 10 ms), %d ANNOUNCEs cut off "
              "unanswered; viewer runs: %s\n",
              kRounds, tight, unanswered, v1.runs_text().c_str());
  streams.clear();
  EXPECT_TRUE(srv.alive());
  EXPECT_TRUE(ref.flowing()) << ref.state() << "\n" << srv.log_tail();
  EXPECT_EQ(ref.gaps(), 0u) << ref.state();
  EXPECT_FALSE(srv.log_contains("CRITICAL")) << srv.log_tail();
}

}  // namespace
}  // namespace gms::test
