// Plain launch paths (shared, not recorded) run on the relay: a late joiner
// starts at the cached key frame, a TCP viewer that stops reading stalls no
// one else, the line starts at the first viewer and stops `linger` s after
// the last, and a line that never delivers is answered 503 within
// start-timeout without holding the server up.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "first_key.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

// H.264 with a key frame every 2 s: a stock server's late joiner waits up
// to that long for its first picture.
const char kH264Line[] =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";

std::string conf_with(const std::string& path_keys) {
  return write_temp_file("l.conf", "[server]\nverbose=1\n[path /cam]\nlaunch=" +
                                       std::string(kH264Line) + "\n" + path_keys);
}

TEST(LaunchRelay, LateJoinerGetsKeyFrameAtOnce) {
  ServerProcess srv({conf_with("")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer first(srv.url("/cam"), "udp");  // starts the line
  ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 30; }, 20s)) << first.error();
  std::vector<double> ms;
  for (int i = 0; i < 8; ++i) {
    bool tcp = i % 2 == 1;
    FirstKey k = measure_first_key(srv.port(), srv.url("/cam"), tcp, 5000);
    EXPECT_TRUE(k.ok) << (tcp ? "tcp " : "udp ") << i << ": " << k.error;
    if (k.ok)
      ms.push_back(k.ms);
    g_usleep(150000 + 97000 * i % 400000);  // joins spread over the 2 s GOP
  }
  ASSERT_FALSE(ms.empty());
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[ms.size() / 2], 100.0) << "median of " << ms.size() << ", max " << ms.back();
  EXPECT_LT(ms.back(), 300.0);  // never a GOP's wait
  std::printf("plain launch path, first key frame after PLAY, %zu joins (UDP and TCP): median "
              "%.1f ms, min %.1f ms, max %.1f ms\n",
              ms.size(), ms[ms.size() / 2], ms.front(), ms.back());
}

// The first viewer of a live relayed media gets the packets its streams
// held since preparation, each once and in order, starting at RTP-Info's
// seq. (It used to get the cached key frame a second time, sent beside the
// streams as if it joined late: duplicates out of order, which made
// receivers drop whole tracks now and then.)
// Plays both tracks of `url` over TCP on a raw connection and checks that
// the packets of each start at RTP-Info's seq and follow one another, each
// once, for about 3 s.
void expect_every_packet_once_in_order(uint16_t port, const std::string& url) {
  RawRtsp c(port);
  ASSERT_TRUE(c.connected());
  RtspReply d = c.request(rtsp_request("DESCRIBE", url, 1, "", "Accept: application/sdp\r\n"));
  ASSERT_EQ(d.status, 200) << d.text;
  std::string session;
  for (int track = 0; track < 2; ++track) {
    std::string transport = "Transport: RTP/AVP/TCP;unicast;interleaved=" +
                            std::to_string(2 * track) + "-" + std::to_string(2 * track + 1) + "\r\n";
    RtspReply r = c.request(rtsp_request("SETUP", url + "/stream=" + std::to_string(track),
                                         2 + track, session, transport));
    ASSERT_EQ(r.status, 200) << r.text;
    session = r.header("Session").substr(0, r.header("Session").find(';'));
  }
  RtspReply play = c.request(rtsp_request("PLAY", url, 4, session, "Range: npt=0.000-\r\n"));
  ASSERT_EQ(play.status, 200) << play.text;
  // RTP-Info: url=.../stream=0;seq=N;rtptime=T,url=.../stream=1;seq=M;...
  std::map<int, long> first_seq;
  const std::string info = play.header("RTP-Info");
  for (int track = 0; track < 2; ++track) {
    auto at = info.find("stream=" + std::to_string(track) + ";seq=");
    ASSERT_NE(at, std::string::npos) << info;
    first_seq[2 * track] = std::strtol(info.c_str() + info.find("seq=", at) + 4, nullptr, 10);
  }
  std::map<int, std::vector<unsigned>> seqs;  // RTP channel → sequence numbers
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline && (seqs[0].size() < 300 || seqs[2].size() < 60)) {
    RawRtsp::Frame f = c.read_interleaved(2s);
    ASSERT_NE(f.channel, -1) << "no packet";
    if (f.channel % 2 == 0 && f.data.size() >= 12)
      seqs[f.channel].push_back((uint8_t(f.data[2]) << 8) | uint8_t(f.data[3]));
  }
  for (int ch : {0, 2}) {
    const auto& s = seqs[ch];
    ASSERT_GE(s.size(), 20u) << "channel " << ch;
    EXPECT_EQ(long(s.front()), first_seq[ch]) << "channel " << ch << ": RTP-Info " << info;
    for (size_t i = 1; i < s.size(); ++i)
      ASSERT_EQ(s[i], (s[i - 1] + 1) & 0xffff)
          << "channel " << ch << ", packet " << i << " of " << s.size() << " out of order";
  }
}

TEST(LaunchRelay, FirstViewerGetsEveryPacketOnceInOrder) {
  ServerProcess srv({"--mount", std::string("/av=") + kH264Opus});
  ASSERT_TRUE(srv.ready()) << srv.log();
  expect_every_packet_once_in_order(srv.port(), srv.url("/av"));
}

// A viewer joining a running media gets the cached key frame sent to it
// alone, then the media's packets: the two meet without a gap or a repeat.
TEST(LaunchRelay, LateJoinerGetsEveryPacketOnceInOrder) {
  ServerProcess srv({"--mount", std::string("/av=") + kH264Opus});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer first(srv.url("/av"), "udp");
  ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 10; }, 20s)) << first.error();
  for (int i = 0; i < 3; ++i)
    expect_every_packet_once_in_order(srv.port(), srv.url("/av"));
}

// A UDP viewer on a raw connection: DESCRIBE and SETUP first, its PLAY sent
// later with the others' (a storm), then its RTP counted by sequence number.
struct UdpJoiner {
  explicit UdpJoiner(uint16_t port) : rtsp(port) {}
  ~UdpJoiner() {
    if (udp >= 0)
      close(udp);
  }
  RawRtsp rtsp;
  int udp = -1;
  std::string session;
  long rtp_info_seq = -1;
  std::vector<uint16_t> seqs;
  bool first_is_key = false;
};

bool setup_udp_joiner(UdpJoiner& j, const std::string& url, std::string& why) {
  RtspReply d = j.rtsp.request(rtsp_request("DESCRIBE", url, 1, "", "Accept: application/sdp\r\n"));
  j.udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int rcv = 1 << 20;
  setsockopt(j.udp, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(j.udp, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(j.udp, reinterpret_cast<sockaddr*>(&a), &len);
  int p = ntohs(a.sin_port);
  RtspReply r = j.rtsp.request(rtsp_request(
      "SETUP", url + "/stream=0", 2, "",
      "Transport: RTP/AVP;unicast;client_port=" + std::to_string(p) + "-" + std::to_string(p + 1) +
          "\r\n"));
  j.session = r.header("Session").substr(0, r.header("Session").find(';'));
  why = "DESCRIBE " + std::to_string(d.status) + ", SETUP " + std::to_string(r.status);
  return d.status == 200 && r.status == 200 && !j.session.empty();
}

// Whether an H.264 RTP payload opens a key frame (SPS or IDR, alone, first
// in a STAP-A, or an FU-A's start).
bool opens_key_frame(const uint8_t* payload, size_t len) {
  if (len < 2)
    return false;
  int type = payload[0] & 0x1f;
  if (type == 24)
    return len >= 4 && ((payload[3] & 0x1f) == 7 || (payload[3] & 0x1f) == 5);
  if (type == 28)
    return (payload[1] & 0x80) && ((payload[1] & 0x1f) == 5 || (payload[1] & 0x1f) == 7);
  return type == 7 || type == 5;
}

// Reads every joiner's socket for `seconds`: RTP of payload type 96 only
// (RTCP for a neighbour whose RTCP port is this socket's may come too).
void read_joiners(std::vector<std::unique_ptr<UdpJoiner>>& js, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<pollfd> fds;
  for (auto& j : js)
    fds.push_back(pollfd{j->udp, POLLIN, 0});
  uint8_t buf[2048];
  while (std::chrono::steady_clock::now() < end) {
    if (poll(fds.data(), fds.size(), 20) <= 0)
      continue;
    for (size_t i = 0; i < js.size(); ++i) {
      ssize_t n;
      while ((n = recv(js[i]->udp, buf, sizeof buf, 0)) >= 12) {
        if ((buf[0] & 0xc0) != 0x80 || (buf[1] & 0x7f) != 96)
          continue;
        size_t off = 12 + 4 * size_t(buf[0] & 0x0f);
        if (js[i]->seqs.empty())
          js[i]->first_is_key = off < size_t(n) && opens_key_frame(buf + off, size_t(n) - off);
        js[i]->seqs.push_back(uint16_t((buf[2] << 8) | buf[3]));
      }
    }
  }
}

// Many UDP viewers PLAY a running relay at once. Each gets its cached key
// frame and then the live packets, in order, each once: before, the live
// packets reached every joiner at its PLAY while its key frame was still
// being sent (round robin to all joiners), so the end of its GOP came after
// newer packets (a player's jitterbuffer gives such packets up). Joiners
// that leave at once get nothing more, and the viewer already watching
// goes on.
TEST(LaunchRelay, JoinStormUdpJoinersGetEveryPacketOnceInOrder) {
  const std::string line =
      "videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=60 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1";
  ServerProcess srv({"--mount", "/cam=" + line});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer first(srv.url("/cam"), "udp");
  ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 45; }, 20s)) << first.error();
  constexpr size_t kStay = 30, kLeave = 10;
  std::vector<std::unique_ptr<UdpJoiner>> stay, leave;
  for (size_t i = 0; i < kStay + kLeave; ++i) {
    auto j = std::make_unique<UdpJoiner>(srv.port());
    std::string why;
    ASSERT_TRUE(setup_udp_joiner(*j, srv.url("/cam"), why)) << why;
    (i < kStay ? stay : leave).push_back(std::move(j));
  }
  unsigned frames_before = first.video_frames();
  for (auto* group : {&stay, &leave})
    for (auto& j : *group)
      ASSERT_TRUE(j->rtsp.send(rtsp_request("PLAY", srv.url("/cam"), 3, j->session,
                                            "Range: npt=0.000-\r\n")));
  for (auto* group : {&stay, &leave})
    for (auto& j : *group) {
      RtspReply r = j->rtsp.read_reply(10s);
      ASSERT_EQ(r.status, 200) << r.text;
      std::string info = r.header("RTP-Info");
      auto at = info.find("seq=");
      ASSERT_NE(at, std::string::npos) << info;
      j->rtp_info_seq = std::strtol(info.c_str() + at + 4, nullptr, 10);
    }
  for (auto& j : leave)
    ASSERT_EQ(j->rtsp.request(rtsp_request("TEARDOWN", srv.url("/cam"), 4, j->session)).status,
              200);
  read_joiners(stay, 3.0);
  read_joiners(leave, 1.0);  // what was on its way
  for (auto& j : leave)
    j->seqs.clear();
  read_joiners(leave, 1.0);
  for (size_t i = 0; i < stay.size(); ++i) {
    const auto& s = stay[i]->seqs;
    ASSERT_GE(s.size(), 150u) << "joiner " << i;
    EXPECT_TRUE(stay[i]->first_is_key) << "joiner " << i << " started at " << s.front();
    // Never before RTP-Info's packet (it may start at a newer key frame when
    // it waited for its turn past one).
    EXPECT_GE(int16_t(uint16_t(s.front() - stay[i]->rtp_info_seq)), 0)
        << "joiner " << i << ": first " << s.front() << ", RTP-Info " << stay[i]->rtp_info_seq;
    for (size_t k = 1; k < s.size(); ++k)
      ASSERT_EQ(s[k], uint16_t(s[k - 1] + 1))
          << "joiner " << i << ", packet " << k << " of " << s.size()
          << ": out of order, lost or repeated (first " << s.front() << ", RTP-Info "
          << stay[i]->rtp_info_seq << ", then " << s[k] << ", " << (k + 1 < s.size() ? s[k + 1] : 0)
          << ", " << (k + 2 < s.size() ? s[k + 2] : 0) << ")";
  }
  for (size_t i = 0; i < leave.size(); ++i)
    EXPECT_EQ(leave[i]->seqs.size(), 0u) << "joiner " << i << " left but still gets packets";
  EXPECT_TRUE(wait_until([&] { return first.video_frames() >= frames_before + 60; }, 10s))
      << first.state();
}

// Sends a request on a raw socket and reads its reply (with its body).
std::string ask(int fd, const std::string& req) {
  EXPECT_EQ(send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  std::string reply;
  char buf[4096];
  while (reply.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return reply;
    reply.append(buf, size_t(n));
  }
  if (auto cl = reply.find("Content-Length: "); cl != std::string::npos) {
    size_t len = std::strtoul(reply.c_str() + cl + 16, nullptr, 10);
    while (reply.size() < reply.find("\r\n\r\n") + 4 + len) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      reply.append(buf, size_t(n));
    }
  }
  return reply;
}

// The stock 1.22 server stops sending to everyone ~10 s after a TCP viewer
// stops reading (its one TCP sink is no longer pulled); on the relay each
// viewer has its own queue.
TEST(LaunchRelay, StuckTcpViewerDoesNotStallUdpViewer) {
  const std::string line =
      "videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast bitrate=6000 key-int-max=30 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1";
  ServerProcess srv({write_temp_file("s.conf", "[server]\nverbose=1\n[path /cam]\nlaunch=" + line +
                                                   "\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer udp(srv.url("/cam"), "udp");
  ASSERT_TRUE(wait_until([&] { return udp.video_frames() >= 15; }, 20s)) << udp.error();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(srv.port());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_NE(ask(fd, describe(srv.url("/cam"), 1)).find(" 200 "), std::string::npos);
  std::string setup = ask(fd, setup_play(srv.url("/cam") + "/stream=0", 2));
  auto sp = setup.find("Session: ");
  ASSERT_NE(sp, std::string::npos) << setup;
  std::string session = setup.substr(sp + 9, setup.find_first_of(";\r", sp + 9) - sp - 9);
  std::string play =
      "PLAY " + srv.url("/cam") + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + session + "\r\n\r\n";
  ASSERT_EQ(send(fd, play.data(), play.size(), 0), ssize_t(play.size()));
  // Never read again; watch the UDP viewer for 20 s in 5 s slices.
  for (int i = 0; i < 4; ++i) {
    unsigned before = udp.video_frames();
    EXPECT_TRUE(wait_until([&] { return udp.video_frames() >= before + 100; }, 5s))
        << "slice " << i << ": " << before << " -> " << udp.video_frames();
  }
  close(fd);
}

TEST(LaunchRelay, LingerStopsAnUnwatchedLine) {
  ServerProcess srv({conf_with("linger=1\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  // Nothing runs before the first viewer.
  EXPECT_FALSE(srv.log_contains("path /cam: launch line starting"));
  {
    Viewer v(srv.url("/cam"), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();
    EXPECT_TRUE(srv.log_contains("path /cam: launch line running"));
  }
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("no viewer for 1 s; launch line stopped"); },
                         15s))
      << srv.log_tail();
  // The next viewer starts it again.
  Viewer again(srv.url("/cam"), "udp");
  EXPECT_TRUE(wait_until([&] { return again.video_frames() >= 15; }, 20s)) << again.error();
  EXPECT_EQ(count_occurrences(srv.log(), "path /cam: launch line running"), 2u) << srv.log_tail();
}

TEST(LaunchRelay, AlwaysOnRunsWithoutViewers) {
  ServerProcess srv({conf_with("always-on=true\nlinger=0\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("path /cam: launch line running"); }, 15s))
      << srv.log_tail();
  {
    Viewer v(srv.url("/cam"), "udp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();
  }
  // linger=0 would stop a plain line at once; an always-on one stays.
  wait_until([] { return false; }, 2s);
  EXPECT_FALSE(srv.log_contains("launch line stopped")) << srv.log_tail();
}

// jpegenc picks Y444 here, which rtpjpegpay drops: the line never delivers.
TEST(LaunchRelay, NeverDeliveringLineGets503AndServerStillStops) {
  const std::string line =
      "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=5/1 ! jpegenc ! "
      "rtpjpegpay name=pay0";
  ServerProcess srv({write_temp_file("n.conf", "[server]\nverbose=1\n[path /bad]\nlaunch=" + line +
                                                   "\nstart-timeout=2\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  RawRtsp raw(srv.port());
  auto t0 = std::chrono::steady_clock::now();
  RtspReply r = raw.request(describe(srv.url("/bad"), 1), 10s);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_EQ(r.header("Retry-After"), "5") << r.text;
  EXPECT_LT(s, 4.0);
  EXPECT_TRUE(srv.log_contains("did not deliver within start-timeout (2 s)")) << srv.log_tail();
  // A second DESCRIBE is answered the same way (the line is tried again).
  RtspReply again = raw.request(describe(srv.url("/bad"), 2), 10s);
  EXPECT_EQ(again.status, 503) << again.text;
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(srv.stop(10s), 0);
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 5.0);
}

// The elements are registered by the plugin only: a program that links the
// library and loads the plugin (the server does, from the registry) gets no
// GType warning, which fatal-warnings would turn into a crash.
TEST(ElementBoundary, ServerPlaysWithFatalWarnings) {
  g_setenv("G_DEBUG", "fatal-warnings", TRUE);
  ServerProcess srv({conf_with("")});
  g_unsetenv("G_DEBUG");
  ASSERT_TRUE(srv.ready()) << srv.log();
  {
    Viewer v(srv.url("/cam"), "tcp");
    EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();
  }
  EXPECT_TRUE(srv.alive()) << srv.log_tail();
  EXPECT_EQ(srv.stop(10s), 0) << srv.log_tail();
}

// An application linking the library loads the plugin file itself: with the
// elements in the library too, their GTypes would be registered twice (a
// warning, fatal here).
TEST(ElementBoundary, ApplicationLoadsLibraryAndPluginWithoutWarnings) {
  const char* plugin = g_getenv("GMS_PLUGIN_FILE");
  ASSERT_TRUE(plugin);
  g_setenv("G_DEBUG", "fatal-warnings", TRUE);
  RunResult r = run({build_path("tests/load_plugin_and_library"), plugin}, 20s);
  g_unsetenv("G_DEBUG");
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
}

}  // namespace
}  // namespace gms::test
