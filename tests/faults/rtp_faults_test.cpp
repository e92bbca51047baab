// Hostile RTP from a publisher and dead UDP viewers: sequence and timestamp
// discontinuities, wraparound, packets injected into a UDP publisher's
// server port from another host, encodings the server must not take, and a
// UDP viewer killed without TEARDOWN. The publisher is our own raw client
// (ANNOUNCE of an H.264 SDP, SETUP, RECORD, then RTP it crafts: the key
// frame of a 64x64 picture, 25 times a second); the path is recorded, and
// in-process viewers count the pictures they decode.
#include <gtest/gtest.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child.h"
#include "http_client.h"
#include "key_frame_nals.h"
#include "mark_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtp_publisher.h"
#include "rtsp_raw.h"
#include "udp_ports.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kSsrc = kPublisherSsrc;

std::string temp_tree() {
  std::string f = write_temp_file("x", "");
  return f.substr(0, f.rfind('/'));
}

// Segments of a recorded path, sorted by name.
std::vector<std::string> segments(const std::string& dir) {
  std::vector<std::string> out;
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr));
  while (const char* name = d ? g_dir_read_name(d.get()) : nullptr)
    out.push_back(dir + "/" + name);
  std::sort(out.begin(), out.end());
  return out;
}

// The video packets' presentation times in a file (ffprobe, s).
std::vector<double> video_times(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "packet=pts_time", "-of", "csv=p=0", file},
                    20s);
  std::vector<double> t;
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l)
    if (**l)
      t.push_back(g_ascii_strtod(*l, nullptr));
  std::sort(t.begin(), t.end());  // in presentation order
  return t;
}

double format_duration(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                     "csv=p=0", file},
                    20s);
  return r.exit_status == 0 ? g_ascii_strtod(r.out.c_str(), nullptr) : -1;
}

struct RecordingSpan {
  double total = 0;     // sum of the segments' durations
  double min_dur = 1e9; // the shortest segment
  double max_step = 0;  // largest step between two pictures in a segment
  size_t frames = 0, files = 0;
  std::string text;     // per segment, for messages
};

RecordingSpan recording_span(const std::string& dir) {
  RecordingSpan s;
  for (const auto& f : segments(dir)) {
    double d = format_duration(f);
    auto times = video_times(f);
    double step = 0;
    for (size_t i = 1; i < times.size(); ++i)
      step = std::max(step, times[i] - times[i - 1]);
    s.total += std::max(d, 0.0);
    s.min_dur = std::min(s.min_dur, d);
    s.max_step = std::max(s.max_step, step);
    s.frames += times.size();
    ++s.files;
    char line[256];
    std::snprintf(line, sizeof line, "%s: %.2f s, %zu pictures, largest step %.3f s\n",
                  f.substr(f.rfind('/') + 1).c_str(), d, times.size(), step);
    s.text += line;
  }
  return s;
}

// Decoded pictures keep coming: `n` more within `timeout`; how long it took
// in `took_ms`.
bool pictures_go_on(const Viewer& v, unsigned n, std::chrono::milliseconds timeout,
                    const std::function<void()>& tick, long& took_ms) {
  const unsigned from = v.video_frames();
  const auto t0 = Clock::now();
  const auto end = t0 + timeout;
  while (Clock::now() < end) {
    tick();
    if (v.video_frames() >= from + n) {
      took_ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
      return true;
    }
  }
  took_ms = -1;
  return false;
}

class RtpFaults : public testing::Test {
 protected:
  void start(int session_timeout = 5, bool http_api = false) {
    ASSERT_GE(h264_key_frame().size(), 3u) << "ffmpeg made no key frame";
    root_ = temp_tree() + "/rec";
    srv_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{write_temp_file(
            "rtp.conf", "[server]\nverbose=1\nsession-timeout=" + std::to_string(session_timeout) +
                                    "\nrecord-dir=" + root_ +
                            "\n[path /ref]\nlaunch=" + kMjpeg +
                            "\nrecord=false\n[path /live/*]\npublish=true\nsegment-duration=4\n")},
        true, 0, std::vector<std::string>{}, http_api);
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  }
  void TearDown() override {
    if (srv_) {
      EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }
  // Frames at 25/s until `path` is recorded and published (a DESCRIBE works).
  bool warm_up(RtpPublisher& pub, const std::string& path) {
    return wait_until(
        [&] {
          pub.send_frame();
          g_usleep(kFrameUs);
          return srv_->log_contains("recording " + path + " into");
        },
        20s);
  }
  // 50 rounds (2 s) of the packets `extra()` makes, then a picture.
  void rounds_with(RtpPublisher& pub, const std::function<std::vector<std::string>()>& extra) {
    for (int round = 0; round < 50; ++round) {
      std::vector<std::string> batch = extra();
      auto f = pub.frame();
      batch.insert(batch.end(), f.begin(), f.end());
      pub.ts += kFrameTicks;
      ASSERT_TRUE(pub.send(batch)) << "round " << round << "\n" << srv_->log_tail();
      g_usleep(kFrameUs);
    }
  }
  // The publisher of `path` streams 2 s more and leaves; its recording did
  // not stop before, and its segments hold over 4 s without a step over
  // 0.5 s.
  void expect_recorded_through(RtpPublisher& pub, const std::string& path) {
    stream(pub, 2000);
    EXPECT_FALSE(srv_->log_contains("recording " + path + " stopped")) << srv_->log_tail();
    EXPECT_EQ(pub.teardown().status, 200) << srv_->log_tail();
    ASSERT_TRUE(wait_until([&] { return srv_->log_contains("recording " + path + " stopped"); }, 10s))
        << srv_->log_tail();
    RecordingSpan span = recording_span(root_ + path);
    std::printf("E02: recorded %zu segments, %.1f s, %zu pictures\n%s", span.files, span.total,
                span.frames, span.text.c_str());
    EXPECT_LE(span.max_step, 0.5) << span.text;
    EXPECT_GE(span.total, 4.0) << span.text;
  }
  // Frames at 25/s for `ms`.
  void stream(RtpPublisher& pub, unsigned ms) {
    for (unsigned t = 0; t < ms; t += kFrameUs / 1000) {
      pub.send_frame();
      g_usleep(kFrameUs);
    }
  }

  std::string root_;
  std::unique_ptr<ServerProcess> srv_;
};

// E06: every kind of discontinuity a publisher can send, one after the
// other, each followed by plain frames. The viewer must decode pictures
// again within about a second of each; the recording has neither a huge gap
// nor a negative duration.
TEST_F(RtpFaults, DiscontinuitiesKeepViewersAndRecordingSane) {
  start();
  RtpPublisher pub(*srv_, "/live/e06", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  const auto t_sent = Clock::now();
  ASSERT_TRUE(warm_up(pub, "/live/e06")) << srv_->log_tail();
  Viewer v(srv_->url("/live/e06"), "tcp");
  long took = 0;
  auto tick = [&] {
    pub.send_frame();
    g_usleep(kFrameUs);
  };
  ASSERT_TRUE(pictures_go_on(v, 10, 15s, tick, took)) << v.state() << srv_->log_tail();

  struct Case {
    const char* name;
    std::function<void()> fault;
  };
  const std::vector<Case> cases = {
      {"a packet lost", [&] { pub.seq += 1; }},
      {"sequence +30000", [&] { pub.seq += 30000; }},
      {"sequence backwards", [&] { pub.seq -= 1000; }},
      {"SSRC change", [&] { pub.ssrc ^= 0x5a5a5a5a; }},
      {"timestamp +2^31", [&] { pub.ts += 0x80000000u; }},
      {"timestamp -2^31", [&] { pub.ts -= 0x80000000u; }},
      {"duplicates", [&] {
         for (int i = 0; i < 25; ++i) {
           auto f = pub.frame();
           auto twice = f;
           twice.insert(twice.end(), f.begin(), f.end());
           pub.send(twice);
           pub.ts += kFrameTicks;
           g_usleep(kFrameUs);
         }
       }},
      {"50 % reordering", [&] {
         for (int i = 0; i < 25; ++i) {
           auto f = pub.frame();
           auto g = (pub.ts += kFrameTicks, pub.frame());
           pub.ts += kFrameTicks;
           std::vector<std::string> all = f;
           all.insert(all.end(), g.begin(), g.end());
           for (size_t k = 0; k + 1 < all.size(); k += 2)  // every other pair swapped
             std::swap(all[k], all[k + 1]);
           pub.send(all);
           g_usleep(2 * kFrameUs);
         }
       }},
  };
  std::string report;
  for (const auto& c : cases) {
    c.fault();
    bool on = pictures_go_on(v, 10, 3s, tick, took);
    report += std::string(c.name) + ": " + (on ? std::to_string(took) + " ms" : "no pictures") + "; ";
    EXPECT_TRUE(on) << c.name << ": the viewer's pictures stopped\n" << v.state() << "\n"
                    << srv_->log_tail();
    EXPECT_LE(took, 2000) << c.name << ": pictures came back only after " << took << " ms";
    stream(pub, 400);
  }
  std::printf("E06: 10 pictures after each discontinuity: %s\n", report.c_str());
  EXPECT_FALSE(v.got_eos()) << v.state();
  EXPECT_TRUE(v.error().empty()) << v.state();
  const double wall = std::chrono::duration<double>(Clock::now() - t_sent).count();
  EXPECT_TRUE(pub.teardown().status == 200) << srv_->log_tail();
  ASSERT_TRUE(wait_until([&] { return srv_->log_contains("recording /live/e06 stopped"); }, 10s))
      << srv_->log_tail();
  RecordingSpan span = recording_span(root_ + "/live/e06");
  std::printf("E06: %.1f s sent; recorded %zu segments, %.1f s, %zu pictures\n%s", wall, span.files,
              span.total, span.frames, span.text.c_str());
  ASSERT_GE(span.files, 1u);
  EXPECT_GE(span.min_dur, 0) << span.text;
  EXPECT_LE(span.total, wall + 2) << "the recording is longer than what was sent\n" << span.text;
  EXPECT_GE(span.total, wall * 0.6) << span.text;
  EXPECT_LE(span.max_step, 1.5) << "a gap in the recording\n" << span.text;
}

// E07: sequence numbers start at 65 500 and the RTP time 5 s before 2^32,
// so both wrap within the run: the viewer's pictures never stall, the
// recording is continuous.
TEST_F(RtpFaults, WraparoundIsSeamless) {
  start();
  RtpPublisher pub(*srv_, "/live/e07", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  pub.seq = 65500;
  pub.ts = uint32_t(0x100000000ull - 90000ull * 5);
  const auto t_sent = Clock::now();
  ASSERT_TRUE(warm_up(pub, "/live/e07")) << srv_->log_tail();
  Viewer v(srv_->url("/live/e07"), "tcp");
  long took = 0;
  auto tick = [&] {
    pub.send_frame();
    g_usleep(kFrameUs);
  };
  ASSERT_TRUE(pictures_go_on(v, 5, 15s, tick, took)) << v.state() << srv_->log_tail();
  // Until the RTP time is 5 s past the wrap, the pictures seen every 100 ms.
  unsigned last = v.video_frames();
  auto last_change = Clock::now();
  long longest_ms = 0;
  const auto end = Clock::now() + 20s;
  bool ts_wrapped = false;
  while (Clock::now() < end && !(ts_wrapped && pub.ts >= 90000u * 5)) {
    uint32_t before = pub.ts;
    tick();
    ts_wrapped = ts_wrapped || pub.ts < before;
    const long since = long(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_change).count());
    longest_ms = std::max(longest_ms, since);
    if (v.video_frames() != last) {
      last = v.video_frames();
      last_change = Clock::now();
    }
  }
  std::printf("E07: both wrapped (%s); longest time without a new picture %ld ms; %u pictures\n",
              ts_wrapped ? "yes" : "no", longest_ms, v.video_frames());
  EXPECT_TRUE(ts_wrapped);
  EXPECT_LE(longest_ms, 1000) << v.state() << srv_->log_tail();
  EXPECT_FALSE(v.got_eos() || !v.error().empty()) << v.state();
  EXPECT_FALSE(v.pts_went_back()) << v.state();
  const double wall = std::chrono::duration<double>(Clock::now() - t_sent).count();
  EXPECT_TRUE(pub.teardown().status == 200) << srv_->log_tail();
  ASSERT_TRUE(wait_until([&] { return srv_->log_contains("recording /live/e07 stopped"); }, 10s))
      << srv_->log_tail();
  RecordingSpan span = recording_span(root_ + "/live/e07");
  std::printf("E07: %.1f s sent; recorded %zu segments, %.1f s, %zu pictures\n%s", wall, span.files,
              span.total, span.frames, span.text.c_str());
  ASSERT_GE(span.files, 1u);
  EXPECT_GE(span.min_dur, 0) << span.text;
  EXPECT_LE(span.total, wall + 2) << span.text;
  EXPECT_GE(span.total, wall * 0.6) << span.text;
  EXPECT_LE(span.max_step, 0.5) << "a jump at the wrap\n" << span.text;
}

// E08: a third party sends RTP and RTCP to a UDP publisher's server ports
// from 127.0.0.2, with the publisher's SSRC and sequence numbers just
// ahead of its own, payloads marked. Viewers must see none of them.
TEST_F(RtpFaults, UdpInjectionIsIgnored) {
  // The publisher sends RTP and no RTCP, which is what keeps a UDP session
  // alive: with a 5 s timeout its session ended 6 s after its RECORD, within
  // the test under the sanitizers.
  start(30);
  RtpPublisher pub(*srv_, "/live/e08", true);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  auto intruder = udp_socket("127.0.0.2");
  ASSERT_TRUE(intruder) << "cannot bind 127.0.0.2";
  auto rtp_dest = Ref<GSocketAddress>::adopt(
      g_inet_socket_address_new_from_string("127.0.0.1", pub.server_rtp_port()));
  auto rtcp_dest = Ref<GSocketAddress>::adopt(
      g_inet_socket_address_new_from_string("127.0.0.1", pub.server_rtp_port() + 1));
  const std::string mark = "INJECTED-BY-A-THIRD-PARTY";
  // A filler NAL (type 12) and an IDR slice, each with the mark.
  const std::string filler = std::string(1, '\x0c') + mark + std::string(200, '\xff');
  const std::string idr = std::string(1, '\x65') + mark + std::string(200, '\x11');
  // An RTCP BYE of the publisher's SSRC.
  const std::string bye = {char(0x81), char(203), 0, 1, char(0x12), char(0x34), char(0xab), char(0xcd)};
  unsigned injected = 0;
  // Five packets just ahead of the publisher's sequence numbers, and a BYE.
  auto inject = [&](uint32_t ssrc, int i) {
    for (uint16_t k = 0; k < 5; ++k) {
      std::string p = rtp_packet(96, uint16_t(pub.seq + k), pub.ts, ssrc, k % 2 ? filler : idr, true);
      if (g_socket_send_to(intruder.get(), rtp_dest.get(), p.data(), p.size(), nullptr, nullptr) > 0)
        ++injected;
    }
    if (i % 10 == 0)
      g_socket_send_to(intruder.get(), rtcp_dest.get(), bye.data(), bye.size(), nullptr, nullptr);
  };
  // 1. Before the publisher's first packet: the intruder is first to
  // name the SSRC.
  for (int i = 0; i < 25; ++i) {
    inject(kSsrc, i);
    g_usleep(kFrameUs);
  }
  ASSERT_TRUE(warm_up(pub, "/live/e08")) << srv_->log_tail();
  MarkViewer v(srv_->port(), srv_->url("/live/e08"), {mark});
  ASSERT_TRUE(v.ok()) << srv_->log_tail();
  // 2. Beside the publisher, with its SSRC; 3. with another SSRC.
  for (int i = 0; i < 100; ++i) {  // 4 s
    pub.send_frame();
    inject(i < 50 ? kSsrc : kSsrc + 1, i);
    g_usleep(kFrameUs);
  }
  const unsigned before_end = v.packets();
  stream(pub, 1000);
  std::printf("E08: %u packets injected; the viewer got %u packets, %u of them injected\n", injected,
              v.packets(), v.marked());
  EXPECT_GT(before_end, 200u) << "the publisher's own stream did not reach the viewer\n"
                              << srv_->log_tail();
  EXPECT_GT(v.packets(), before_end + 50) << "the publisher's stream stopped\n" << srv_->log_tail();
  EXPECT_EQ(v.marked(), 0u) << "injected packets reached the viewer\n" << srv_->log_tail();
  EXPECT_TRUE(srv_->log_contains("/live/e08: ignoring RTP and RTCP from 127.0.0.2")) << srv_->log_tail();
}

// E05: encodings whose depayloaders have a record of memory faults, and
// L16/L24 with channel counts no player expects, are refused at ANNOUNCE;
// what is taken is relayed without any depayloader of ours: the server's
// element factory log names none.
TEST_F(RtpFaults, ExoticEncodingsAreRefusedAndNeverDepayloaded) {
  // The server logs every element it makes.
  const std::string debug = g_getenv("GST_DEBUG") ? g_getenv("GST_DEBUG") : "";
  g_setenv("GST_DEBUG", (debug + (debug.empty() ? "" : ",") + "GST_ELEMENT_FACTORY:4").c_str(), TRUE);
  start();
  if (debug.empty())
    g_unsetenv("GST_DEBUG");
  else
    g_setenv("GST_DEBUG", debug.c_str(), TRUE);
  auto sdp = [](const std::string& media, const std::string& rtpmap) {
    return "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=" + media +
           " 0 RTP/AVP 97\r\na=rtpmap:97 " + rtpmap + "\r\na=control:streamid=0\r\n";
  };
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"audio", "X-QDM/44100"}, {"audio", "x-qdm/44100/2"}, {"video", "X-SV3V-ES/90000"},
      {"audio", "CELT/48000/2"}, {"audio", "L16/44100/3"},  {"audio", "L16/44100/5"},
      {"audio", "L24/48000/7"},  {"audio", "L16/44100/0"},  {"audio", "L16/44100/x"},
  };
  for (const auto& [media, rtpmap] : refused) {
    RawRtsp raw(srv_->port());
    RtspReply r = raw.request(announce(srv_->url("/live/e05"), sdp(media, rtpmap), 1));
    EXPECT_EQ(r.status, 415) << rtpmap << "\n" << r.text;
  }
  // Taken: stereo L16 at a dynamic type, relayed and fed packets.
  {
    RtpPublisher pub(*srv_, "/live/l16", false, sdp("audio", "L16/44100/2"));
    ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
    for (int i = 0; i < 50; ++i) {
      pub.send({rtp_packet(97, pub.seq++, pub.ts, kSsrc, std::string(882, '\0'))});
      pub.ts += 441;
      g_usleep(10000);
    }
    RawRtsp raw(srv_->port());
    EXPECT_EQ(raw.request(describe(srv_->url("/live/l16"), 1)).status, 200) << srv_->log_tail();
  }
  const std::string log = srv_->log();
  EXPECT_NE(log.find("msrelaysink"), std::string::npos) << "no element factory log";
  for (const char* depay : {"rtpqdm2depay", "rtpL16depay", "rtpL24depay", "rtpceltdepay", "rtpsv3vdepay"})
    EXPECT_EQ(log.find(depay), std::string::npos) << depay << " was made";
}

// B07: a UDP viewer (ffmpeg) killed with SIGKILL: its RTSP connection
// closes, no TEARDOWN, no more RTCP. The server must stop sending to its
// port within the session timeout, and its session must end.
TEST_F(RtpFaults, KilledUdpViewerIsCutOffAtTheSessionTimeout) {
  start(5, true);  // the shortest session timeout the server takes
  auto sessions = [&] {
    HttpReply r = http_get(srv_->http_url("/metrics"));
    auto at = r.body.find("\ngms_sessions ");
    return at == std::string::npos ? -1 : std::atoi(r.body.c_str() + at + 14);
  };
  // Packets the server counts as sent to its one viewer (-1: none).
  auto packets_sent = [&]() -> gint64 {
    JsonNodePtr doc = parse_json(http_get(srv_->http_url("/api/v1/sessions")).body);
    if (!doc || !JSON_NODE_HOLDS_OBJECT(doc.get()))
      return -1;
    JsonArray* list = json_object_get_array_member(json_node_get_object(doc.get()), "sessions");
    if (!list || json_array_get_length(list) != 1)
      return -1;
    JsonObject* one = json_array_get_object_element(list, 0);
    return json_object_has_member(one, "packets_sent") ? json_object_get_int_member(one, "packets_sent") : -1;
  };
  ASSERT_TRUE(wait_until([&] { return sessions() == 0; }, 5s));
  // The viewer's RTP port is in a range we chose, free a moment ago, so
  // that we can take it once the viewer is dead: the even port of the
  // range that is free before it starts and taken once it plays.
  unsigned base = 0;
  auto free_ports = [&] {
    std::vector<unsigned> out;
    for (unsigned p = base; p < base + 100; p += 2)
      if (udp_socket("0.0.0.0", p))
        out.push_back(p);
    return out;
  };
  std::vector<unsigned> before;
  for (int i = 0; i < 20 && before.size() < 50; ++i) {
    base = 20000 + 100 * unsigned(g_random_int_range(0, 400));
    before = free_ports();
  }
  ASSERT_EQ(before.size(), 50u) << "no free range of UDP ports";
  Child ff({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-rtsp_transport", "udp",
            "-min_port", std::to_string(base), "-max_port", std::to_string(base + 99), "-i",
            srv_->url("/ref"), "-t", "60", "-f", "null", "-"});
  ASSERT_TRUE(wait_until([&] { return sessions() == 1; }, 15s)) << ff.output() << srv_->log_tail();
  std::vector<unsigned> after = free_ports(), taken;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(taken));
  ASSERT_EQ(taken.size(), 1u) << "cannot tell the viewer's port";
  const unsigned port = taken[0];
  // It plays: the server sends to it.
  const gint64 sent0 = packets_sent();
  EXPECT_TRUE(wait_until([&] { return packets_sent() > sent0 + 20; }, 5s)) << sent0;
  const gint64 sent_kill = packets_sent();
  ff.signal(SIGKILL);
  ff.wait(5000);
  const auto killed = Clock::now();
  // The dead viewer's port, taken by us to see what still comes.
  Ref<GSocket> sock;
  ASSERT_TRUE(wait_until([&] { return bool(sock = udp_socket("0.0.0.0", port)); }, 3s));
  std::printf("B07: the dead viewer's port %u taken again after %ld ms\n", port,
              long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count()));
  auto last_packet = killed;
  long ended_ms = -1;  // when the session count was 0
  gint64 sent_end = sent_kill;
  unsigned received = 0;
  char buf[65536];
  while (Clock::now() - killed < 15s && !(ended_ms >= 0 && Clock::now() - last_packet > 2s)) {
    GErrorPtr err;
    if (g_socket_condition_timed_wait(sock.get(), G_IO_IN, 100000, nullptr, nullptr) &&
        g_socket_receive(sock.get(), buf, sizeof buf, nullptr, out(err)) > 0) {
      ++received;
      last_packet = Clock::now();
    }
    if (ended_ms < 0)
      sent_end = std::max(sent_end, packets_sent());
    if (ended_ms < 0 && sessions() == 0)
      ended_ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count());
  }
  const long after_ms =
      long(std::chrono::duration_cast<std::chrono::milliseconds>(last_packet - killed).count());
  std::printf("B07: %u packets to the dead viewer's port, the last %ld ms after the kill; no "
              "session after %ld ms (session timeout 5 s); the server's count of packets sent to "
              "it: %lld at the kill, %lld at its end\n",
              received, after_ms, ended_ms, (long long)sent_kill, (long long)sent_end);
  EXPECT_GE(ended_ms, 0) << srv_->log_tail();
  EXPECT_LE(sent_end, sent_kill + 50) << "the server went on sending to the dead viewer";
  // gst-rtsp-server gives every session 5 s beyond its timeout before it
  // ends it (a keep-alive that comes a little late), and 2 s for load.
  EXPECT_LE(ended_ms, 5000 + 5000 + 2000) << srv_->log_tail();
  EXPECT_LE(after_ms, 5000 + 2000) << srv_->log_tail();
}

// E02: RTP headers that lie about their own size (15 CSRCs in a 12-byte
// packet, an extension longer than the packet, padding longer than the
// payload, no payload at all), each among plain pictures. They are
// dropped; the publisher, its viewer and its recording go on.
TEST_F(RtpFaults, MalformedRtpHeadersAreDropped) {
  start();
  RtpPublisher pub(*srv_, "/live/e02", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  ASSERT_TRUE(warm_up(pub, "/live/e02")) << srv_->log_tail();
  Viewer v(srv_->url("/live/e02"), "tcp");
  long took = 0;
  auto tick = [&] {
    pub.send_frame();
    g_usleep(kFrameUs);
  };
  ASSERT_TRUE(pictures_go_on(v, 10, 15s, tick, took)) << v.state() << srv_->log_tail();
  auto header = [&](uint8_t first, const std::string& rest) {
    std::string p = rtp_packet(96, pub.seq++, pub.ts, pub.ssrc, "", true);
    p[0] = char(first);
    return p + rest;
  };
  const std::string slice = std::string(1, '\x65') + std::string(100, '\x22');
  const std::vector<std::pair<const char*, std::function<std::string()>>> attacks = {
      {"CC=15 in 12 bytes", [&] { return header(0x8f, ""); }},
      {"CC=15, 20 bytes", [&] { return header(0x8f, std::string(8, '\x01')); }},
      {"extension length past the end",
       [&] { return header(0x90, std::string("\xbe\xde\xff\xff", 4) + slice); }},
      {"extension header cut", [&] { return header(0x90, std::string("\xbe", 1)); }},
      {"padding over the payload", [&] { return header(0xa0, slice + std::string(1, '\xff')); }},
      {"padding length 0", [&] { return header(0xa0, slice + std::string(1, '\0')); }},
      {"padding, no payload", [&] { return header(0xa0, std::string(1, '\x0d')); }},
      {"empty payload", [&] { return header(0x80, ""); }},
      {"version 1", [&] { return header(0x40, slice); }},
  };
  const unsigned before = v.video_frames();
  ASSERT_NO_FATAL_FAILURE(rounds_with(pub, [&] {
    std::vector<std::string> batch;
    for (const auto& [name, make] : attacks)
      batch.push_back(make());
    return batch;
  }));
  ASSERT_TRUE(pictures_go_on(v, 10, 3s, tick, took)) << v.state() << srv_->log_tail();
  std::printf("E02: %u pictures decoded during and after 450 malformed packets\n",
              v.video_frames() - before);
  EXPECT_FALSE(v.got_eos() || !v.error().empty()) << v.state();
  EXPECT_GE(v.video_frames() - before, 30u) << v.state();
  expect_recorded_through(pub, "/live/e02");
}

// E02: the largest RTP packet an interleaved frame can carry (65 535
// bytes: a filler NAL unit of 65 523), before each picture of a TCP
// publisher. Larger than any UDP datagram, so a UDP viewer cannot get it
// as it is. Dropped or passed: the publisher's session, its viewers over
// TCP and UDP and its recording go on.
TEST_F(RtpFaults, LargestInterleavedFrameKeepsThePathGoing) {
  start();
  RtpPublisher pub(*srv_, "/live/big", false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  ASSERT_TRUE(warm_up(pub, "/live/big")) << srv_->log_tail();
  Viewer tcp(srv_->url("/live/big"), "tcp");
  Viewer udp(srv_->url("/live/big"), "udp");
  long took = 0;
  auto tick = [&] {
    pub.send_frame();
    g_usleep(kFrameUs);
  };
  ASSERT_TRUE(pictures_go_on(tcp, 10, 15s, tick, took)) << tcp.state() << srv_->log_tail();
  ASSERT_TRUE(pictures_go_on(udp, 10, 15s, tick, took)) << udp.state() << srv_->log_tail();
  const std::string filler = std::string(1, '\x0c') + std::string(65535 - 12 - 1, '\xff');
  ASSERT_EQ(rtp_packet(96, 0, 0, 0, filler).size(), 65535u);
  const unsigned tcp_before = tcp.video_frames(), udp_before = udp.video_frames();
  ASSERT_NO_FATAL_FAILURE(rounds_with(pub, [&] {
    return std::vector<std::string>{rtp_packet(96, pub.seq++, pub.ts, pub.ssrc, filler, false)};
  }));
  EXPECT_TRUE(pictures_go_on(tcp, 10, 3s, tick, took)) << tcp.state() << srv_->log_tail();
  EXPECT_TRUE(pictures_go_on(udp, 10, 3s, tick, took)) << udp.state() << srv_->log_tail();
  std::printf("E02: pictures decoded during and after 50 packets of 65 535 bytes: %u over TCP, "
              "%u over UDP\n",
              tcp.video_frames() - tcp_before, udp.video_frames() - udp_before);
  EXPECT_GE(tcp.video_frames() - tcp_before, 30u) << tcp.state();
  EXPECT_GE(udp.video_frames() - udp_before, 30u) << udp.state();
  EXPECT_FALSE(tcp.got_eos() || !tcp.error().empty()) << tcp.state();
  EXPECT_FALSE(udp.got_eos() || !udp.error().empty()) << udp.state();
  expect_recorded_through(pub, "/live/big");
}

}  // namespace
}  // namespace gms::test
