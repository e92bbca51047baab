// Recording by the server: launch, proxied and published paths into segments
// that stay playable after kill -9, played back over RTSP under /recordings
// (single files and time ranges); a full disk stops recording, not viewers.
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>

#include "child.h"
#include "http_client.h"
#include "media_fixtures.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "segment_policy.h"
#include "viewer.h"

namespace gms::test {
namespace {

struct Segment {
  std::string path;
  int64_t size = 0;
};

std::vector<Segment> segments(const std::string& dir) {
  std::vector<Segment> out;
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr));
  if (!d)
    return out;
  while (const char* name = g_dir_read_name(d.get())) {
    std::string p = dir + "/" + name;
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      out.push_back({p, st.st_size});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

double duration_of(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                     "csv=p=0", file},
                    20s);
  return r.exit_status == 0 ? g_ascii_strtod(r.out.c_str(), nullptr) : -1;
}

// The end of the last video frame in a file (pts + duration, s); -1 if none.
double last_frame_end(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "packet=pts_time,duration_time", "-of", "csv=p=0", file},
                    20s);
  double end = -1;
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l) {
    GStrvPtr f(g_strsplit(*l, ",", 3));
    if (!f.get()[0] || !f.get()[1])
      continue;
    end = std::max(end, g_ascii_strtod(f.get()[0], nullptr) + g_ascii_strtod(f.get()[1], nullptr));
  }
  return end;
}

// One viewer of a recording over RTSP/TCP by hand: DESCRIBE, SETUP of video
// (channel 0) and audio (channel 2), PLAY with Range, PAUSE, and what the
// video's RTP says (frames by marker bit, timestamps, RTCP BYE).
struct RangeViewer {
  RawRtsp conn;
  std::string base, query, session;  // base: the URL without the query
  std::string control;                // the Content-Base
  int cseq = 1;

  RangeViewer(uint16_t port, const std::string& url) : conn(port) {
    auto q = url.find('?');
    base = url.substr(0, q);
    query = q == std::string::npos ? "" : url.substr(q);
  }
  RtspReply send(const std::string& method, const std::string& target,
                 const std::string& headers = "") {
    return conn.request(rtsp_request(method, target, cseq++, session, headers), 30s);
  }
  // After it, requests go to the Content-Base (which has no query, as
  // rtspsrc and ffmpeg use it).
  RtspReply describe() {
    RtspReply r = send("DESCRIBE", base + query, "Accept: application/sdp\r\n");
    if (!r.header("Content-Base").empty()) {
      control = r.header("Content-Base");
      control.erase(control.find_last_not_of(" \r\n") + 1);
    }
    return r;
  }
  int setup(int stream) {
    RtspReply r = send("SETUP", control + "stream=" + std::to_string(stream),
                       "Transport: RTP/AVP/TCP;unicast;interleaved=" + std::to_string(2 * stream) +
                           "-" + std::to_string(2 * stream + 1) + "\r\n");
    if (r.status == 200)
      session = r.header("Session").substr(0, r.header("Session").find(';'));
    return r.status;
  }
  RtspReply play(const std::string& range) {
    return send("PLAY", control, range.empty() ? "" : "Range: " + range + "\r\n");
  }
  struct Seen {
    unsigned frames = 0;
    bool bye = false;
    bool got_first = false;
    uint32_t first_ts = 0, last_ts = 0;
    double max_step = 0;  // s: the largest step between frames' RTP times
    double wall_of_max_step = 0;  // s: wall time between those two frames
  };
  // Reads video until `frames` frames, RTCP BYE, or the deadline.
  Seen read(unsigned frames, std::chrono::milliseconds timeout) {
    Seen s;
    auto end = deadline_in(timeout);
    auto last_wall = std::chrono::steady_clock::now();
    while (s.frames < frames && std::chrono::steady_clock::now() < end) {
      RawRtsp::Frame f = conn.read_interleaved(std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now()));
      if (f.channel < 0)
        break;
      if (f.channel == 0 && f.data.size() >= 12) {
        const uint32_t ts = (uint32_t(uint8_t(f.data[4])) << 24) |
                            (uint32_t(uint8_t(f.data[5])) << 16) |
                            (uint32_t(uint8_t(f.data[6])) << 8) | uint32_t(uint8_t(f.data[7]));
        const auto now = std::chrono::steady_clock::now();
        if (!s.got_first) {
          s.got_first = true;
          s.first_ts = ts;
        } else if (ts != s.last_ts) {
          const double step = double(int32_t(ts - s.last_ts)) / 90000.0;
          if (step > s.max_step) {
            s.max_step = step;
            s.wall_of_max_step = std::chrono::duration<double>(now - last_wall).count();
          }
        }
        if (ts != s.last_ts || !s.got_first)
          last_wall = now;
        s.last_ts = ts;
        s.frames += (uint8_t(f.data[1]) & 0x80) ? 1 : 0;
      } else if (f.channel == 1 && f.data.size() >= 2) {
        for (size_t off = 0; off + 4 <= f.data.size();) {  // RTCP compound: BYE is 203
          if (uint8_t(f.data[off + 1]) == 203)
            s.bye = true;
          off += 4 * (((size_t(uint8_t(f.data[off + 2])) << 8) | uint8_t(f.data[off + 3])) + 1);
        }
        if (s.bye)
          break;
      }
    }
    return s;
  }
};

// The start of a reply's or an SDP's "npt=A-B": A (or B with `end`); -1 if none.
double npt_of(const std::string& text, bool end = false) {
  auto at = text.find("npt=");
  if (at == std::string::npos)
    return -1;
  const char* p = text.c_str() + at + 4;
  if (end) {
    p = strchr(p, '-');
    if (!p || !g_ascii_isdigit(p[1]))
      return -1;
    ++p;
  }
  return g_ascii_isdigit(*p) ? g_ascii_strtod(p, nullptr) : -1;
}

// RTP-Info's rtptime for stream 0: the RTP time of the position in Range.
uint32_t rtptime_of(const RtspReply& play) {
  std::string info = play.header("RTP-Info");
  auto at = info.find("stream=0;");
  auto ts = at == std::string::npos ? at : info.find("rtptime=", at);
  return ts == std::string::npos ? 0 : uint32_t(std::strtoul(info.c_str() + ts + 8, nullptr, 10));
}

// The video's first packet against RTP-Info. Each rtptime is the RTP time
// of the Range's start, and the Range starts where the earliest track does:
// the recorded Opus track (20 ms frames) can begin up to a frame before the
// key frame the video starts at, and then the video's first packet is that
// much after the start. Equal otherwise. The exact check failed in 2 of 5
// sanitized clean runs with the video 299 ticks (3.3 ms) after, and passed in
// 27 runs since (2026-12-07), none of them showing an offset: that the audio
// started first is the explanation that fits, not one observed. The error this
// guards against is seconds: the library once named the segment's time
// (core/seek_rtp_info.h).
void expect_first_packet_at_range_start(uint32_t first_ts, const RtspReply& play) {
  const double after = double(int32_t(first_ts - rtptime_of(play))) / 90000;
  if (after != 0)
    std::printf("the first video packet is %.1f ms after the Range's start\n", after * 1000);
  EXPECT_GE(after, 0.0) << "the first video packet is before the Range's start: " << play.text;
  EXPECT_LE(after, 0.021) << "the first video packet is after the audio's first frame: "
                          << play.text;
}

// A fragmented MP4's header: its boxes before the first fragment (moof);
// "" when it has none.
std::string mp4_header_of(const std::string& path) {
  GCharPtr bytes;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), out(bytes), &len, nullptr))
    return "";
  const std::string data(bytes.get(), len);
  size_t at = 0;
  while (at + 8 <= data.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    const size_t size = (size_t(p[0]) << 24) | (size_t(p[1]) << 16) | (size_t(p[2]) << 8) | p[3];
    if (data.compare(at + 4, 4, "moof") == 0)
      return data.substr(0, at);
    if (size < 8)
      return "";
    at += size;
  }
  return "";
}

// Video frames in a file (ffprobe), and where its key frames are (s).
std::vector<double> key_frames_of(const std::string& file, unsigned* frames) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "packet=pts_time,flags", "-of", "csv=p=0", file},
                    20s);
  std::vector<double> keys;
  *frames = 0;
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l) {
    if (!**l)
      continue;
    ++*frames;
    if (strchr(*l, 'K'))
      keys.push_back(g_ascii_strtod(*l, nullptr));
  }
  return keys;
}

// PLAY Range npt=`at`- of one recorded segment file: 200, the reply's Range
// names the key frame at or before `at`, and the frames from it to the end
// of the file follow.
void expect_segment_seeks(ServerProcess& srv, const std::string& file, const std::string& url,
                          double at) {
  unsigned total = 0;
  std::vector<double> keys = key_frames_of(file, &total);
  ASSERT_FALSE(keys.empty()) << file;
  double key = keys.front();
  for (double k : keys)
    if (k <= at + 1e-3)
      key = k;
  RangeViewer v(srv.port(), url);
  RtspReply d = v.describe();
  ASSERT_EQ(d.status, 200) << srv.log_tail();
  // The SDP announces the length (for a segment cut by kill -9, from its
  // name and last write: within half a second).
  const double media_end = last_frame_end(file);
  EXPECT_NEAR(npt_of(d.text, true), media_end, 0.5) << d.text;
  ASSERT_EQ(v.setup(0), 200);
  ASSERT_EQ(v.setup(1), 200);
  RtspReply play = v.play("npt=" + std::to_string(at) + "-");
  ASSERT_EQ(play.status, 200) << play.text << srv.log_tail();
  EXPECT_NEAR(npt_of(play.text), key, 0.05) << play.text;
  RangeViewer::Seen seen = v.read(100000, 20s);
  EXPECT_TRUE(seen.bye);
  // The first packet is the one at the reply's Range start.
  expect_first_packet_at_range_start(seen.first_ts, play);
  // From the key frame to the end of the file (the marker of the last
  // frame may be lost with the end: one frame of slack).
  const unsigned expected = total - unsigned(std::lround(key * 30));
  EXPECT_NEAR(double(seen.frames), double(expected), 2.0) << file;
  std::printf("segment %s (%.3f s, %.3f s announced): PLAY Range npt=%.2f- starts at npt=%.3f "
              "(key frame at %.3f), %u frames of %u to the end\n",
              file.c_str(), media_end, npt_of(d.text, true), at, npt_of(play.text), key,
              seen.frames, total);

  // Just before the announced end, which can be after the media's end (a
  // length from names): the last key frame's GOP plays, then BYE.
  const double near_end = npt_of(d.text, true) - 0.01;
  RangeViewer w(srv.port(), url);
  ASSERT_EQ(w.describe().status, 200);
  ASSERT_EQ(w.setup(0), 200);
  ASSERT_EQ(w.setup(1), 200);
  RtspReply end_play = w.play("npt=" + std::to_string(near_end) + "-");
  ASSERT_EQ(end_play.status, 200) << end_play.text << srv.log_tail();
  EXPECT_NEAR(npt_of(end_play.text), keys.back(), 0.05) << end_play.text;
  RangeViewer::Seen last = w.read(100000, 20s);
  EXPECT_TRUE(last.bye) << srv.log_tail();
  expect_first_packet_at_range_start(last.first_ts, end_play);
  EXPECT_NEAR(double(last.frames), double(total - unsigned(std::lround(keys.back() * 30))), 2.0);
  std::printf("  PLAY Range npt=%.3f- starts at npt=%.3f (last key frame at %.3f), %u frames\n",
              near_end, npt_of(end_play.text), keys.back(), last.frames);
}

std::string temp_dir() {
  GCharPtr d(g_dir_make_tmp("gms-rec-XXXXXX", nullptr));
  return d.get();
}

TEST(Record, ProxiedPathSegmentsSurviveKill9AndPlayBack) {
  ServerProcess origin({"--mount", std::string("/o=") + kH264Opus});
  ASSERT_TRUE(origin.ready());
  std::string dir = temp_dir();
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir + "\n[path /cam]\nproxy=" +
                    origin.url("/o") + "\nsegment-duration=1\n");
  auto p = std::make_unique<ServerProcess>(std::vector<std::string>{conf});
  ASSERT_TRUE(p->ready()) << p->log();
  ASSERT_TRUE(wait_until([&] { return segments(dir + "/cam").size() >= 4; }, 20s)) << p->log();
  uint16_t port = p->port();
  p->signal(SIGKILL);
  p->wait_exit(5s);
  auto segs = segments(dir + "/cam");
  double total = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    double d = duration_of(segs[i].path);
    if (i + 1 == segs.size() && d <= 0)
      continue;  // opened less than a fragment before the kill: no frame yet
    EXPECT_GT(d, 0.0) << segs[i].path;
    total += d;
  }
  EXPECT_GE(total, 2.0);

  // Restarted: leftovers with no frame (empty, or a header only) are gone
  // once the path records again, and the segments play over RTSP. (A
  // header-only one, as a kill in a segment's first fragment leaves: made
  // here from a real one, to be sure there is one.)
  {
    GCharPtr bytes;
    gsize len = 0;
    ASSERT_TRUE(g_file_get_contents(segs.front().path.c_str(), out(bytes), &len, nullptr));
    std::string data(bytes.get(), len);
    const size_t moof = data.find("moof");
    ASSERT_NE(moof, std::string::npos);
    ASSERT_TRUE(g_file_set_contents((dir + "/cam/2000-01-01_00-00-00-000000.mp4").c_str(),
                                    data.data(), gssize(moof - 4), nullptr));
  }
  p = std::make_unique<ServerProcess>(std::vector<std::string>{conf}, true, port);
  ASSERT_TRUE(p->ready()) << p->log();
  ASSERT_TRUE(wait_until([&] { return p->log_contains("recording /cam into"); }, 20s));
  auto now = segments(dir + "/cam");
  EXPECT_EQ(now.front().path.find("2000-01-01"), std::string::npos) << now.front().path;
  for (size_t i = 0; i + 1 < now.size(); ++i)  // the newest is being written
    EXPECT_GT(duration_of(now[i].path), 0.0) << now[i].path;
  std::string first = segs.front().path.substr(dir.size());  // "/cam/…mp4"
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "compact", p->url("/recordings" + first)},
                    20s);
  EXPECT_NE(r.out.find("codec_name=h264"), std::string::npos) << r.out << r.err << p->log();
}

// A server that records what is published under /live/ into `dir`, in 2 s
// segments.
std::string publish_recording_conf(const std::string& dir) {
  return write_temp_file("r.conf", "[server]\nverbose=1\nrecord-dir=" + dir +
                                       "\n[path /live/*]\npublish=true\nsegment-duration=2\n");
}

// Waits until `dir`'s newest segment (of at least `count`) holds 0.5 s of
// media: a fragment has just landed.
bool wait_into_segment(const std::string& dir, size_t count) {
  return wait_until(
      [&] {
        auto segs = segments(dir);
        return segs.size() >= count && last_frame_end(segs.back().path) >= 0.5;
      },
      30s);
}

// Waits a random part of a second (two fragments), so that runs sample the
// best and the worst case alike; returns the wall clock (µs) after it.
gint64 random_moment() {
  const auto at = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(g_random_int_range(0, 1000));
  wait_until([&] { return std::chrono::steady_clock::now() >= at; }, 2s);
  return g_get_real_time();
}

// What a fault at `fault_us` lost: its wall time minus the wall time of the
// end of the last frame on disk, in the newest segment with frames (whose
// name is the wall time its first frame was captured). `newest` and `end`
// (s into it) say where that was; NaN if no segment has frames.
double media_lost(const std::string& dir, gint64 fault_us, std::string& newest, double& end) {
  auto segs = segments(dir);
  end = -1;
  for (auto it = segs.rbegin(); it != segs.rend() && end <= 0; ++it) {
    newest = it->path;
    end = last_frame_end(newest);
  }
  auto start = SegmentPolicy::start_from_name(newest);
  if (!start || end <= 0)
    return std::nan("");
  return double(fault_us - *start) / G_USEC_PER_SEC - end;
}

// kH264Opus with a key frame every 2 s, as many cameras send.
const char kTwoSecondGop[] =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1 "
    "audiotestsrc is-live=true ! audioconvert ! opusenc ! rtpopuspay name=pay1 pt=97";

// Target: at most 1 s of media lost at kill -9, whatever the GOP (2 s
// here). Measured as the wall time of the kill minus the wall time of the
// end of the last frame on disk, in the newest segment with frames (a newer
// one opened just before the kill counts as lost). A segment's name is the
// wall time its first frame was captured, as the recorder's clock places it
// (the live frame that came in with the least delay fixes the offset), so
// whatever sits in the relay, the jitterbuffer or the muxer at the kill
// counts as lost. Segments of 2 s: the first segment of a recording starts
// with the relay's cached GOP, whose capture time the recorder cannot know
// (named when it arrived, up to a GOP late); later ones are exact.
TEST(Record, Kill9LosesLittleMedia) {
  std::string dir = temp_dir();
  std::string conf = write_temp_file(
      "r.conf", "[server]\nrecord-dir=" + dir + "\n[path /cam]\nlaunch=" + kTwoSecondGop +
                    "\nrecord=true\nsegment-duration=2\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  // Into the third segment, at no particular fragment boundary.
  ASSERT_TRUE(wait_into_segment(dir + "/cam", 3)) << srv.log_tail();
  const gint64 killed_us = random_moment();
  srv.signal(SIGKILL);
  srv.wait_exit(5s);
  std::string newest;
  double end = -1;
  const double lost = media_lost(dir + "/cam", killed_us, newest, end);
  ASSERT_FALSE(std::isnan(lost)) << newest;
  ASSERT_NE(newest, segments(dir + "/cam").front().path) << "measured in a later segment";
  std::printf("kill -9: %.3f s of media lost (last frame on disk ends %.3f s into %s)\n", lost,
              end, newest.c_str());
  EXPECT_LE(lost, 1.0);
  EXPECT_GE(lost, -0.1);

  // The segment cut by the kill (no random-access index) seeks when played
  // back, to a point inside its media (0.5 to about 2.5 s of it, by where
  // the kill fell).
  ServerProcess again({conf});
  ASSERT_TRUE(again.ready()) << again.log();
  expect_segment_seeks(again, newest, again.url("/recordings" + newest.substr(dir.size())),
                       end * 0.7);
}

TEST(Record, PublishedPathIsRecordedWhileThePublisherIsThere) {
  std::string dir = temp_dir();
  ServerProcess srv({"-v", "--publish", "/live/*", "--record-dir", dir});
  ASSERT_TRUE(srv.ready()) << srv.log();
  {
    Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 4, false, "320x240"));
    ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
    ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam into"); }, 10s))
        << srv.log();
    ASSERT_TRUE(wait_until([&] { return !segments(dir + "/live/cam").empty(); }, 10s));
    EXPECT_EQ(pub.wait(15000), 0) << pub.output();  // the 4 s clip ends by itself
  }
  EXPECT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam stopped"); }, 20s))
      << srv.log();
  auto segs = segments(dir + "/live/cam");
  ASSERT_FALSE(segs.empty());
  EXPECT_GT(duration_of(segs.back().path), 0.5);
}

// delete-after holds for every segment of the path on disk: those of a run
// before a restart (no recorder of this run ever opened them) go while the
// reconnected publisher records, checked periodically, not only when one
// of the new run's segments closes.
TEST(Record, RetentionCoversSegmentsOfEarlierRuns) {
  std::string dir = temp_dir();
  std::string conf = write_temp_file(
      "ret.conf", "[server]\nverbose=1\nrecord-dir=" + dir +
                      "\n[path /live/*]\npublish=true\nsegment-duration=1\ndelete-after=6\n");
  std::vector<Segment> first;
  {
    ServerProcess srv({conf});
    ASSERT_TRUE(srv.ready()) << srv.log();
    Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 3, false, "160x120"));
    ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
    EXPECT_EQ(pub.wait(15000), 0) << pub.output();
    ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam stopped"); }, 20s))
        << srv.log();
    first = segments(dir + "/live/cam");
    ASSERT_GE(first.size(), 2u);
    EXPECT_EQ(srv.stop(), 0);
  }
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 40, false, "160x120"));
  ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
  auto first_gone = [&] {
    for (const auto& s : first)
      if (g_file_test(s.path.c_str(), G_FILE_TEST_EXISTS))
        return false;
    return true;
  };
  EXPECT_TRUE(wait_until(first_gone, 30s)) << srv.log();
  EXPECT_TRUE(srv.log_contains("retention (/live/*): deleted " + first.front().path)) << srv.log();
  // The new run's recording goes on: its newest segment is there.
  EXPECT_TRUE(wait_until([&] { return !segments(dir + "/live/cam").empty(); }, 10s));
  EXPECT_TRUE(pub.running()) << pub.output();
}

// A publisher that vanishes (kill -9: no TEARDOWN) mid-segment: recording
// stops, every segment plays, and the newest holds the media up to at most
// 1 s before the publisher went (measured like Kill9LosesLittleMedia, so
// the publisher's own encoder and send delay count as lost too).
TEST(Record, VanishedPublisherLeavesPlayableSegments) {
  std::string dir = temp_dir();
  ServerProcess srv({publish_recording_conf(dir)});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 60, true, "320x240"));
  ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
  ASSERT_TRUE(wait_into_segment(dir + "/live/cam", 2)) << srv.log_tail();
  const gint64 killed_us = random_moment();
  pub.signal(SIGKILL);
  pub.wait(5000);
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam stopped"); }, 20s))
      << srv.log_tail();
  auto segs = segments(dir + "/live/cam");
  ASSERT_GE(segs.size(), 2u);
  for (const auto& seg : segs)
    EXPECT_GT(duration_of(seg.path), 0.0) << seg.path;
  std::string newest;
  double end = -1;
  const double lost = media_lost(dir + "/live/cam", killed_us, newest, end);
  ASSERT_FALSE(std::isnan(lost)) << newest;
  std::printf("publisher killed: %.3f s of media lost (last frame on disk ends %.3f s into %s)\n",
              lost, end, newest.c_str());
  EXPECT_LE(lost, 1.0);
  EXPECT_GE(lost, -0.1);
  // The server goes on: the path can be published and recorded again.
  Child again(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 2, false, "320x240"));
  EXPECT_TRUE(wait_until(
      [&] { return count_occurrences(srv.log(), "recording /live/cam into") >= 2; }, 20s))
      << srv.log_tail();
}

// Times (s, in the file) at which a white flash starts in the video, or a
// tone starts in the audio: the marks of the flash-and-beep publisher.
std::vector<double> marks_of(const std::string& file, bool audio) {
  const std::string graph =
      audio ? "amovie=" + file + ",asetnsamples=480,astats=metadata=1:reset=1"
            : "movie=" + file + ",signalstats";
  const std::string tag =
      audio ? "frame_tags=lavfi.astats.Overall.RMS_level" : "frame_tags=lavfi.signalstats.YAVG";
  RunResult r = run({"ffprobe", "-v", "error", "-f", "lavfi", "-i", graph, "-show_entries",
                     "frame=pts_time:" + tag, "-of", "csv=p=0"},
                    30s);
  std::vector<double> marks;
  bool on = false;
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l) {
    GStrvPtr f(g_strsplit(*l, ",", 3));
    if (!f.get()[0] || !f.get()[1])
      continue;
    const double v = g_ascii_strtod(f.get()[1], nullptr);
    const bool lit = audio ? v > -30 : v > 100;  // dB RMS; mean luma
    if (lit && !on)
      marks.push_back(g_ascii_strtod(f.get()[0], nullptr));
    on = lit;
  }
  return marks;
}

// Lip sync: a publisher sends a white flash and a tone together every
// second; in every segment, the first too (it starts with the relay's
// cached GOP and the audio after it: mp4mux started that audio at the
// file's 0, early by the GOP's age), each flash has its tone within 70 ms
// (two frames; 30 ms measured). (Each track timed from its own first packet
// once put the tone 0.4 to 0.6 s off, in every segment.)
TEST(Record, PublishedTracksStayInStep) {
  std::string dir = temp_dir();
  ServerProcess srv({publish_recording_conf(dir)});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
             "color=c=black:size=320x240:rate=30,drawbox=enable='lt(mod(t,1),0.1)':c=white:t=fill",
             "-re", "-f", "lavfi", "-i", "aevalsrc='if(lt(mod(t,1),0.1),sin(2*PI*440*t),0)':s=48000",
             "-t", "7", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
             "-pix_fmt", "yuv420p", "-c:a", "libopus", "-b:a", "32k", "-f", "rtsp",
             "-rtsp_transport", "tcp", srv.url("/live/cam")});
  EXPECT_EQ(pub.wait(20000), 0) << pub.output();
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam stopped"); }, 20s))
      << srv.log_tail();
  auto segs = segments(dir + "/live/cam");
  ASSERT_GE(segs.size(), 3u);
  unsigned checked = 0, checked_first = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    std::vector<double> flashes = marks_of(segs[i].path, false);
    std::vector<double> tones = marks_of(segs[i].path, true);
    std::string seen;
    for (double f : flashes)
      seen += " flash " + std::to_string(f);
    for (double t : tones)
      seen += " tone " + std::to_string(t);
    std::printf("%s:%s\n", segs[i].path.c_str(), seen.c_str());
    for (double f : flashes) {
      double nearest = 1e9;
      for (double t : tones)
        if (std::fabs(t - f) < std::fabs(nearest - f))
          nearest = t;
      if (nearest > 1e8)
        continue;  // the tone of a flash at the very end went to the next file
      if (f < tones.front() - 0.5)
        continue;  // the first file starts with a flash from before the audio began
      EXPECT_NEAR(nearest, f, 0.07) << segs[i].path << ":" << seen;
      ++checked;
      checked_first += i == 0;
    }
  }
  EXPECT_GE(checked, 3u);
  EXPECT_GE(checked_first, 1u) << "no flash with its tone in the first segment";
}

std::string codecs_of(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of",
                     "csv=p=0", file},
                    20s);
  return r.out;
}

// A recorded launch path runs without viewers (always on), is recorded
// without a second encoder (one x264enc in the process), and a viewer plays
// it meanwhile from the same relay.
TEST(Record, LaunchPathIsRecordedWhileAViewerPlays) {
  std::string dir = temp_dir();
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir + "\n[path /cam]\nlaunch=" + kH264Opus +
                    "\nrecord=true\nsegment-duration=1\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  // No viewer yet: the line runs for the recorder alone.
  ASSERT_TRUE(wait_until([&] { return segments(dir + "/cam").size() >= 2; }, 20s)) << srv.log();
  {
    Viewer v(srv.url("/cam"), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 30 && v.audio_buffers() >= 10; }, 20s))
        << v.error() << srv.log_tail();
    size_t before = segments(dir + "/cam").size();
    unsigned frames = v.video_frames();
    // Recording goes on while the viewer plays, and the viewer is not
    // disturbed by segment cuts.
    ASSERT_TRUE(wait_until([&] { return segments(dir + "/cam").size() >= before + 2; }, 20s))
        << srv.log_tail();
    EXPECT_TRUE(wait_until([&] { return v.video_frames() >= frames + 30; }, 10s))
        << v.video_frames() << " frames, " << frames << " before; " << v.error()
        << srv.log_tail();
    EXPECT_TRUE(v.error().empty()) << v.error();
    EXPECT_FALSE(v.pts_went_back());
  }
  auto segs = segments(dir + "/cam");
  ASSERT_GE(segs.size(), 4u);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {  // the newest is being written
    EXPECT_GT(duration_of(segs[i].path), 0.3) << segs[i].path;
    std::string codecs = codecs_of(segs[i].path);
    EXPECT_NE(codecs.find("h264"), std::string::npos) << segs[i].path << ": " << codecs;
    EXPECT_NE(codecs.find("opus"), std::string::npos) << segs[i].path << ": " << codecs;
  }
  // One encoder for the viewer and the recorder: the line was built once.
  EXPECT_EQ(count_occurrences(srv.log(), "launch line running"), 1u) << srv.log_tail();
}

// A launch path whose audio is announced (its payloader has caps, so the
// SDP and the relay channel have them) but never sends a packet: the path
// records its video. (Before, every segment's muxer waited for data on the
// audio pad: no file had a frame.) The first segment waits track-wait (2 s)
// for the audio and is still named when its first frame was live.
TEST(Record, TrackThatNeverSendsDoesNotStopTheRecording) {
  std::string dir = temp_dir();
  const std::string line =
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1 "
      "audiotestsrc is-live=true ! audioconvert ! opusenc ! "
      "valve drop=true drop-mode=forward-sticky-events ! rtpopuspay name=pay1 pt=97";
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir + "\n[path /cam]\nlaunch=" + line +
                    "\nrecord=true\nsegment-duration=1\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  const gint64 ready_us = g_get_real_time();
  ASSERT_TRUE(wait_until([&] { return segments(dir + "/cam").size() >= 2; }, 20s)) << srv.log_tail();
  const auto segs = segments(dir + "/cam");
  for (size_t i = 0; i + 1 < segs.size(); ++i) {  // the newest is being written
    const std::string codecs = codecs_of(segs[i].path);
    EXPECT_NE(codecs.find("h264"), std::string::npos) << segs[i].path << ": " << codecs;
    EXPECT_EQ(codecs.find("opus"), std::string::npos) << segs[i].path << ": " << codecs;
    EXPECT_GT(duration_of(segs[i].path), 0.4) << segs[i].path;
  }
  const auto first = SegmentPolicy::start_from_name(segs[0].path);
  ASSERT_TRUE(first) << segs[0].path;
  const double named = double(*first - ready_us) / G_USEC_PER_SEC;
  std::printf("first segment named %.3f s after the server was ready (it waited 2 s for the audio)\n", named);
  EXPECT_LT(named, 1.5) << "named when its first frame was live, not when the wait ended";
  EXPECT_GT(named, -1.5);
}

// Video packet times (s) of a file, in the order stored.
std::vector<double> video_times(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "packet=pts_time", "-of", "csv=p=0", file},
                    20s);
  std::vector<double> out;
  GStrvPtr lines(g_strsplit(r.out.c_str(), "\n", -1));
  for (gchar** l = lines.get(); l && *l; ++l)
    if (**l)
      out.push_back(g_ascii_strtod(*l, nullptr));
  return out;
}

// A source that restarts inside a segment (a launch line that ends and is
// started again 1 s later: a new producer with new timestamps) leaves a real
// gap in the segment, of about the outage, and time never goes back: the
// relay reader continues the RTP time by the wall-clock gap, so the
// recording line needs no msnormalize of its own.
TEST(Record, SourceRestartInsideASegmentLeavesARealGap) {
  std::string dir = temp_dir();
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir +
                    "\n[path /cam]\nlaunch=videotestsrc is-live=true num-buffers=60 ! "
                    "video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency "
                    "speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=-1"
                    "\nrecord=true\nsegment-duration=60\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  std::vector<double> times;
  ASSERT_TRUE(wait_until(
      [&] {
        auto segs = segments(dir + "/cam");
        if (segs.empty())
          return false;
        times = video_times(segs.front().path);
        return times.size() >= 100;  // into the second run of the line
      },
      30s))
      << srv.log_tail();
  EXPECT_EQ(segments(dir + "/cam").size(), 1u);
  double gap = 0;
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_GT(times[i], times[i - 1]) << "frame " << i << " goes back";
    gap = std::max(gap, times[i] - times[i - 1]);
  }
  std::printf("one segment across a source restart: %zu frames, largest step %.3f s\n", times.size(), gap);
  EXPECT_GE(gap, 0.5) << "the outage (the line starts again after 1 s) is in the segment";
  EXPECT_LE(gap, 3.0);
}

int describe_status(ServerProcess& srv, const std::string& path_and_query) {
  RawRtsp raw(srv.port());
  RtspReply r = raw.request("DESCRIBE " + srv.url(path_and_query) +
                            " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n");
  return r.status;
}

// A time range across segments plays as one stream: from the range's start
// (the key frame before it) to its end, then EOS (RTCP BYE).
TEST(Record, TimeRangeAcrossSegmentsPlaysAsOneStream) {
  std::string dir = temp_dir();
  ServerProcess srv({publish_recording_conf(dir)});
  ASSERT_TRUE(srv.ready()) << srv.log();
  {
    // 30 fps, a key frame every second, Opus: segments of 2 s.
    Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 8, true, "320x240"));
    ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
    EXPECT_EQ(pub.wait(20000), 0) << pub.output();
  }
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/cam stopped"); }, 20s))
      << srv.log_tail();
  auto segs = segments(dir + "/live/cam");
  ASSERT_GE(segs.size(), 3u) << srv.log_tail();
  auto start0 = SegmentPolicy::start_from_name(segs[0].path);
  auto start1 = SegmentPolicy::start_from_name(segs[1].path);
  ASSERT_TRUE(start0 && start1) << segs[0].path;
  // From 1 s before the second segment starts, for 2 s: half in each; then
  // from 1 s into the second segment (a later segment: splitmuxsink's had
  // the recording's running times in their mfra index) into the third.
  for (gint64 from : {*start1 - G_USEC_PER_SEC, *start1 + G_USEC_PER_SEC}) {
    ASSERT_GE(from, *start0);
    std::string query = "?start=" + iso_utc(from) + "&duration=2";
    const auto t0 = std::chrono::steady_clock::now();
    Viewer v(srv.url("/recordings/live/cam" + query), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.got_eos() || !v.error().empty(); }, 20s))
        << v.video_frames() << " frames; " << srv.log_tail();
    const double played =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(v.error().empty()) << v.error();
    EXPECT_TRUE(v.got_eos());
    // 2 s at 30 fps = 60 frames, and those from the key frame at or
    // before the start (up to 1 s before it) to the start.
    EXPECT_GE(v.video_frames(), 55u) << query << srv.log_tail();
    EXPECT_LE(v.video_frames(), 95u) << query << srv.log_tail();
    EXPECT_GT(v.audio_buffers(), 50u) << query;
    EXPECT_FALSE(v.pts_went_back());
    std::printf("range of 2 s over 2 segments from %s: %u frames, %u audio buffers, EOS after "
                "%.2f s (wall, with set-up)\n",
                iso_utc(from).c_str(), v.video_frames(), v.audio_buffers(), played);
  }
  // Each range was built from the segments it overlaps: the first spans
  // the cut; the second spans the next one unless the second segment ran
  // longer (its cut waits for a key frame after segment-duration).
  for (gint64 from : {*start1 - G_USEC_PER_SEC, *start1 + G_USEC_PER_SEC}) {
    unsigned overlapped = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
      auto begin = SegmentPolicy::start_from_name(segs[i].path);
      auto next = i + 1 < segs.size() ? SegmentPolicy::start_from_name(segs[i + 1].path)
                                      : std::optional<gint64>();
      if (begin && *begin < from + 2 * G_USEC_PER_SEC && (!next || *next > from))
        overlapped++;
    }
    std::string line = "?start=" + iso_utc(from) + "&duration=2: " + std::to_string(overlapped) +
                       (overlapped == 1 ? " segment from" : " segments from");
    EXPECT_TRUE(srv.log_contains(line)) << line << "\n" << srv.log_tail();
  }
  const gint64 from = *start1 - G_USEC_PER_SEC;

  // Bad or empty ranges: 400 or 404, with the reason in the log.
  EXPECT_EQ(describe_status(srv, "/recordings/live/cam?start=yesterday&duration=2"), 400);
  EXPECT_EQ(describe_status(srv, "/recordings/live/cam?start=" + iso_utc(from) + "&duration=-1"), 400);
  EXPECT_EQ(describe_status(srv, "/recordings/live/cam?start=" + iso_utc(from)), 400);
  EXPECT_EQ(describe_status(srv, "/recordings/live/cam?start=2001-01-01T00:00:00Z&duration=60"), 404);
  EXPECT_EQ(describe_status(srv, "/recordings/live/nothing?start=" + iso_utc(from) + "&duration=2"),
            404);
  EXPECT_TRUE(srv.log_contains("is not an ISO 8601 time")) << srv.log_tail();
  EXPECT_TRUE(srv.log_contains("nothing recorded in that range")) << srv.log_tail();
  // The directory itself is still not a stream; its files still play.
  EXPECT_EQ(describe_status(srv, "/recordings/live/cam"), 404);
  EXPECT_EQ(describe_status(srv, segs[0].path.substr(dir.size()).insert(0, "/recordings")), 200);

  // A newest segment that has its header and no media yet (the quarter of a
  // second before its first fragment, or for good after a kill -9 there) is
  // left out: the range plays what came before it (it was answered 503).
  auto last = SegmentPolicy::start_from_name(segs.back().path);
  ASSERT_TRUE(last);
  const std::string header = mp4_header_of(segs.back().path);
  ASSERT_FALSE(header.empty()) << segs.back().path;
  const std::string opened =
      dir + "/live/cam/" + recorder_segment_name(*last + 3 * G_USEC_PER_SEC, "mp4");
  ASSERT_TRUE(g_file_set_contents(opened.c_str(), header.data(), gssize(header.size()), nullptr));
  const std::string to_now = "?start=" + iso_utc(*last) + "&duration=30";
  Viewer edge(srv.url("/recordings/live/cam" + to_now), "tcp");
  ASSERT_TRUE(wait_until([&] { return edge.got_eos() || !edge.error().empty(); }, 20s))
      << edge.video_frames() << " frames; " << srv.log_tail();
  EXPECT_TRUE(edge.error().empty()) << edge.error() << srv.log_tail();
  EXPECT_GT(edge.video_frames(), 10u) << srv.log_tail();
  EXPECT_TRUE(srv.log_contains("left out (no media in it yet)")) << srv.log_tail();
}

// A time range seeks: PLAY Range npt=X- starts at the key frame at or
// before the range's start + X (first PLAY and after PAUSE), and a gap in
// the recording (the publisher away some seconds) plays as a gap: the
// timestamps jump by it and the viewer waits as long. Single closed
// segments seek too.
TEST(Record, TimeRangeSeeksAndKeepsGaps) {
  std::string dir = temp_dir();
  ServerProcess srv({publish_recording_conf(dir)});
  ASSERT_TRUE(srv.ready()) << srv.log();
  // Two recordings of 5 s, the publisher away about 4 s between them.
  for (int round = 1; round <= 2; ++round) {
    {
      Child pub(ffmpeg_publisher(srv.url("/live/cam"), "tcp", 5, true, "320x240"));
      ASSERT_TRUE(wait_published(srv, "/live/cam")) << srv.log();
      EXPECT_EQ(pub.wait(20000), 0) << pub.output();
    }
    ASSERT_TRUE(wait_until(
        [&] { return count_occurrences(srv.log(), "recording /live/cam stopped") >= size_t(round); },
        20s))
        << srv.log_tail();
    if (round == 1) {
      const auto back = std::chrono::steady_clock::now() + 4s;
      wait_until([&] { return std::chrono::steady_clock::now() >= back; }, 5s);
    }
  }
  auto segs = segments(dir + "/live/cam");
  ASSERT_GE(segs.size(), 4u) << srv.log_tail();
  std::vector<gint64> starts;
  for (const auto& seg : segs)
    starts.push_back(SegmentPolicy::start_from_name(seg.path).value_or(0));
  size_t after_gap = 0;  // the first segment of the second recording
  for (size_t i = 1; i < segs.size(); ++i)
    if (starts[i] - starts[i - 1] > 3 * G_USEC_PER_SEC)
      after_gap = i;
  ASSERT_GT(after_gap, 1u);
  // The gap as recorded: from the end of the media before it (the last
  // segment's start plus its length) to the next segment's start.
  const double gap = double(starts[after_gap] - starts[after_gap - 1]) / G_USEC_PER_SEC -
                     duration_of(segs[after_gap - 1].path);

  const std::string url = srv.url("/recordings/live/cam?start=" + iso_utc(starts[0]) + "&duration=60");
  RangeViewer v(srv.port(), url);
  RtspReply d = v.describe();
  ASSERT_EQ(d.status, 200) << srv.log_tail();
  // The SDP's range has an end: the recording's length, the gap in it.
  const double length = npt_of(d.text, true);
  EXPECT_GT(length, 10.0 + gap - 1.0) << d.text;
  ASSERT_EQ(v.setup(0), 200) << srv.log_tail();
  ASSERT_EQ(v.setup(1), 200) << srv.log_tail();
  // First PLAY, 1 s in: the key frame at or before it in the first segment,
  // the publisher's second one (every second by its timestamps). A published
  // track is recorded on its arrival times, and the first second's packets
  // come bunched while the server sets up the publisher's pipeline: read
  // late from the socket, all at once, it records 0.75-0.9 s long (under
  // the sanitizers the short end). The key frame must still be that second
  // one, not the first at 0.
  double key = 0;
  unsigned first_frames = 0;
  for (double k : key_frames_of(segs[0].path, &first_frames))
    if (k <= 1.0 + 1e-3)
      key = k;
  EXPECT_GT(key, 0.5);
  RtspReply play = v.play("npt=1-");
  ASSERT_EQ(play.status, 200) << play.text << srv.log_tail();
  const double started = npt_of(play.text);
  EXPECT_NEAR(started, key, 0.05) << play.text;
  EXPECT_NEAR(npt_of(play.text, true), length, 0.01) << play.text;
  RangeViewer::Seen first = v.read(30, 10s);
  EXPECT_EQ(first.frames, 30u);
  expect_first_packet_at_range_start(first.first_ts, play);
  EXPECT_LT(first.max_step, 0.1) << "no jump within a recording";
  // PAUSE, then PLAY 3.2 s in: the key frame at or before, in the second
  // segment (whose start is 2 to 2.5 s into the range by the names).
  ASSERT_EQ(v.send("PAUSE", v.control).status, 200);
  play = v.play("npt=3.2-");
  ASSERT_EQ(play.status, 200) << play.text << srv.log_tail();
  const double resumed = npt_of(play.text);
  EXPECT_GE(resumed, 2.0) << play.text;
  EXPECT_LE(resumed, 3.2) << play.text;
  // On through the gap to the end: the RTP timestamps jump by the gap, and
  // the gap is waited for.
  const auto t0 = std::chrono::steady_clock::now();
  RangeViewer::Seen rest = v.read(100000, 40s);
  expect_first_packet_at_range_start(rest.first_ts, play);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(rest.bye) << srv.log_tail();
  EXPECT_NEAR(rest.max_step, gap, 0.35) << "the recorded gap is " << gap << " s";
  EXPECT_GT(rest.wall_of_max_step, gap - 0.5);
  // The RTCP BYE comes 2.5 s after the last packet (mounts/bye_delay.h).
  EXPECT_NEAR(wall, length - resumed + 2.5, 1.5);
  // Every frame from the resumed key frame to the end: those of the segment
  // it is in, from it, and all of the later ones (none is left out).
  size_t k = 0;
  for (size_t i = 0; i < segs.size(); ++i)
    if (double(starts[i] - starts[0]) / G_USEC_PER_SEC <= 3.2)
      k = i;
  unsigned expected = 0;
  for (size_t i = k; i < segs.size(); ++i) {
    unsigned n = 0;
    key_frames_of(segs[i].path, &n);
    expected += n;
  }
  expected -= unsigned(std::lround((resumed - double(starts[k] - starts[0]) / G_USEC_PER_SEC) * 30));
  EXPECT_NEAR(double(rest.frames), double(expected), 2.0);
  std::printf("range of %.2f s with a %.2f s gap: PLAY npt=1- starts at %.3f, after PAUSE "
              "npt=3.2- at %.3f; the timestamps jump %.3f s at the gap, waited %.2f s; to the end "
              "%.2f s (wall) for %.2f s of npt, %u frames\n",
              length, gap, started, resumed, rest.max_step, rest.wall_of_max_step, wall,
              length - resumed, rest.frames);
  EXPECT_TRUE(srv.log_contains("seek to 3.200 s")) << srv.log_tail();

  // A single closed segment seeks too; a 2 s one is announced a little
  // short (by its name and the next one's), and a seek into its last
  // second once went to its start.
  expect_segment_seeks(srv, segs[1].path, srv.url("/recordings" + segs[1].path.substr(dir.size())),
                       1.2);
}

// Writes to `path` until the file system is full (bounded: 256 MiB).
void fill_disk(const std::string& path) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path << ": " << g_strerror(errno);
  static char chunk[64 * 1024];
  for (int i = 0; i < 4096; ++i)
    if (fwrite(chunk, 1, sizeof chunk, f) != sizeof chunk || fflush(f) != 0)
      break;
  fclose(f);
}

// What GET /api/v1/recordings says of `path`: state, last error and its time.
struct ApiRecording {
  std::string state, last_error, last_error_time;
};
ApiRecording api_recording(const ServerProcess& srv, const std::string& path) {
  ApiRecording r;
  HttpReply reply = http_get(srv.http_url("/api/v1/recordings"));
  JsonNodePtr doc = parse_json(reply.body);
  if (!doc || !JSON_NODE_HOLDS_OBJECT(doc.get()))
    return r;
  JsonObject* o = json_find(
      json_object_get_array_member(json_node_get_object(doc.get()), "recordings"), "path", path);
  r.state = json_string(o, "state");
  r.last_error = json_string(o, "last_error");
  r.last_error_time = json_string(o, "last_error_time");
  return r;
}

// Disk full, on a small tmpfs of the server's own (a private mount
// namespace: unshare -m, as root; skipped where that is not allowed):
// recording stops with an error in the log and the HTTP API, the viewer
// keeps playing, and recording starts again once there is space (the API
// says "recording" again and still shows the last error with its time).
TEST(Record, DiskFullStopsRecordingNotViewers) {
  std::string dir = temp_dir();
  RunResult probe = run({"unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs \"$0\"", dir},
                        10s);
  if (probe.exit_status != 0)
    GTEST_SKIP() << "no private tmpfs here (unshare -m and mount need root): " << probe.err;
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir + "\n[path /cam]\nlaunch=" + kH264Opus +
                    "\nrecord=true\nsegment-duration=1\n");
  ServerProcess srv({conf}, true, 0,
                    {"unshare", "-m", "sh", "-c",
                     "mount -t tmpfs -o size=16m tmpfs \"$0\" && exec \"$@\"", dir},
                    true);
  ASSERT_TRUE(srv.ready()) << srv.log();
  // The tmpfs exists only in the server's namespace: seen through /proc.
  const std::string inside = "/proc/" + std::to_string(srv.pid()) + "/root" + dir;
  ASSERT_TRUE(wait_until([&] { return segments(inside + "/cam").size() >= 2; }, 20s))
      << srv.log_tail();
  Viewer v(srv.url("/cam"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error();

  const std::string filler = inside + "/filler";
  fill_disk(filler);
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /cam stopped:"); }, 20s))
      << srv.log_tail();
  ApiRecording failed;
  EXPECT_TRUE(wait_until(
      [&] {
        failed = api_recording(srv, "/cam");
        return failed.state == "error";
      },
      5s))
      << failed.state << srv.log_tail();
  EXPECT_NE(failed.last_error.find("space"), std::string::npos) << failed.last_error;
  EXPECT_NE(srv.log().find("recording /cam stopped: " + failed.last_error), std::string::npos)
      << failed.last_error << srv.log_tail();
  EXPECT_EQ(failed.last_error_time.size(), 27u) << failed.last_error_time;  // ….123456Z
  EXPECT_EQ(failed.last_error_time.back(), 'Z');
  EXPECT_EQ(http_get(srv.http_url("/metrics")).body.find("gms_recording_errors_total{path=\"/cam\"} 0\n"),
            std::string::npos);
  unsigned frames = v.video_frames();
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= frames + 30; }, 10s))
      << v.error() << srv.log_tail();
  EXPECT_TRUE(srv.alive());

  // Space again: the recorder tries every 10 s and writes segments again.
  const size_t started = count_occurrences(srv.log(), "recording /cam into");
  ASSERT_EQ(g_unlink(filler.c_str()), 0) << g_strerror(errno);
  ASSERT_TRUE(wait_until(
      [&] { return count_occurrences(srv.log(), "recording /cam into") > started; }, 25s))
      << srv.log_tail();
  const size_t before = segments(inside + "/cam").size();
  EXPECT_TRUE(wait_until([&] { return segments(inside + "/cam").size() >= before + 2; }, 15s))
      << srv.log_tail();
  ApiRecording resumed = api_recording(srv, "/cam");
  EXPECT_EQ(resumed.state, "recording");
  EXPECT_NE(resumed.last_error.find("space"), std::string::npos) << resumed.last_error;
  EXPECT_FALSE(resumed.last_error_time.empty());
  std::printf("disk full, API: %s at %s, then %s\n", failed.last_error.c_str(),
              failed.last_error_time.c_str(), resumed.state.c_str());
  EXPECT_TRUE(v.error().empty()) << v.error();
  EXPECT_GT(v.video_frames(), frames + 30);
  std::printf("disk full: %s\n", srv.log().substr(srv.log().find("recording /cam stopped:"), 160).c_str());
}

// A codec the format cannot hold (MJPEG in MP4): the path is not recorded,
// with one clear error that says which format would take it and no retry
// loop; in Matroska it is recorded, with G.711 audio.
TEST(Record, MjpegIsRecordedInMatroskaNotMp4) {
  std::string dir = temp_dir();
  const std::string mjpeg =
      "videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! "
      "jpegenc ! rtpjpegpay name=pay0 pt=26";
  const std::string g711 =
      " audiotestsrc is-live=true ! audioconvert ! audioresample ! "
      "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0";
  std::string conf = write_temp_file(
      "r.conf", "[server]\nverbose=1\nrecord-dir=" + dir + "\n[path /mp4]\nlaunch=" + mjpeg +
                    "\nrecord=true\n[path /mkv]\nlaunch=" + mjpeg + g711 +
                    "\nrecord=true\nrecord-format=mkv\nsegment-duration=1\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  ASSERT_TRUE(wait_until(
      [&] {
        auto segs = segments(dir + "/mkv");
        return segs.size() >= 2;
      },
      20s))
      << srv.log_tail();
  auto segs = segments(dir + "/mkv");
  EXPECT_EQ(codecs_of(segs.front().path), "mjpeg\npcm_mulaw\n") << segs.front().path;
  EXPECT_TRUE(srv.log_contains(
      "recording /mp4: no track can be recorded: image/jpeg cannot go into mp4 files "
      "(record-format=mkv takes it)"))
      << srv.log_tail();
  EXPECT_FALSE(srv.log_contains("recording /mp4 stopped")) << srv.log_tail();
  EXPECT_TRUE(segments(dir + "/mp4").empty());
}

// ffmpeg sends H.264's parameter sets only in the SDP; MPEG-TS segments after
// the first must still carry them or no player can decode them.
TEST(Record, EveryMpegTsSegmentOfAPublisherDecodes) {
  std::string dir = temp_dir();
  ServerProcess srv({write_temp_file("r.conf", "[server]\nverbose=1\nrecord-dir=" + dir +
                                                   "\n[path /live/*]\npublish=true\n"
                                                   "record-format=mpegts\nsegment-duration=1\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(ffmpeg_publisher(srv.url("/live/ts"), "tcp", 5, false, "320x240"));
  EXPECT_EQ(pub.wait(20000), 0) << pub.output();
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/ts stopped"); }, 20s))
      << srv.log_tail();
  auto segs = segments(dir + "/live/ts");
  ASSERT_GE(segs.size(), 3u) << srv.log_tail();
  for (const auto& seg : segs) {
    RunResult dec = run({"ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", seg.path, "-map",
                         "0:v:0", "-f", "null", "-"},
                        std::chrono::seconds(30));
    EXPECT_EQ(dec.exit_status, 0) << seg.path << dec.err;
    EXPECT_EQ(dec.err.find("non-existing PPS"), std::string::npos) << seg.path << dec.err;
    EXPECT_EQ(dec.err.find("no frame"), std::string::npos) << seg.path << dec.err;
  }
}

TEST(Record, UnwritableDirectoryRefusedAtStart) {
  RunResult r = run({build_path("src/gst-mediaserver"), "--record-dir", "/proc/no/such/dir",
                     "--publish", "/live/*"},
                    20s);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--record-dir: cannot create"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gms::test
