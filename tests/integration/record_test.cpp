// Recording by the server: proxied and published paths into segments that
// stay playable after kill -9, played back over RTSP under /recordings.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "child.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
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
    if (segs[i].size == 0 && i + 1 == segs.size())
      continue;  // opened just before the kill, nothing in it yet
    double d = duration_of(segs[i].path);
    EXPECT_GT(d, 0.0) << segs[i].path;
    total += d;
  }
  EXPECT_GE(total, 2.0);

  // Restarted: empty leftovers are gone once the path records again, and
  // the segments play over RTSP.
  p = std::make_unique<ServerProcess>(std::vector<std::string>{conf}, true, port);
  ASSERT_TRUE(p->ready()) << p->log();
  ASSERT_TRUE(wait_until([&] { return p->log_contains("recording /cam into"); }, 20s));
  auto now = segments(dir + "/cam");
  for (size_t i = 0; i + 1 < now.size(); ++i)  // the newest is being written
    EXPECT_GT(now[i].size, 0) << now[i].path;
  std::string first = segs.front().path.substr(dir.size());  // "/cam/…mp4"
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "compact", p->url("/recordings" + first)},
                    20s);
  EXPECT_NE(r.out.find("codec_name=h264"), std::string::npos) << r.out << r.err << p->log();
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
    EXPECT_GT(v.video_frames(), frames + 30);
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

TEST(Record, UnwritableDirectoryRefusedAtStart) {
  RunResult r = run({build_path("src/gst-mediaserver"), "--record-dir", "/proc/no/such/dir",
                     "--publish", "/live/*"},
                    20s);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--record-dir: cannot create"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gms::test
