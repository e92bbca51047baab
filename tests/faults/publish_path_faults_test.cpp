// Publisher faults that concern the path rather than the stream: a UDP
// publisher killed with SIGKILL (its RTSP connection closes, no TEARDOWN,
// no interleaved data to notice the end by), and published path names that
// try to lead the recorder out of its directory. A viewer of another path
// watches each case and must lose nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "child.h"
#include "key_frame_nals.h"
#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
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

}  // namespace
}  // namespace gms::test
