// Recording AAC as ffmpeg publishes it (MPEG4-GENERIC, several frames per
// RTP packet) in each record format: the audio's time never goes back, its
// duration is the video's, and the segment plays back with both tracks.
// (Packets stamped by their arrival once overlapped the frames before them:
// mp4mux wrote the audio as about a day long, and the file did not play.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "child.h"
#include "process.h"
#include "publish_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

constexpr double kClipSeconds = 8;

// H.264 and AAC (ffmpeg's own encoder), 48 kHz; made once.
const std::string& aac_clip() {
  static const std::string clip = [] {
    std::string path = write_temp_file("aac.mp4", "");
    RunResult r = run({"ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                       "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
                       "sine=frequency=440:sample_rate=48000", "-t",
                       std::to_string(int(kClipSeconds)), "-c:v", "libx264", "-preset", "veryfast",
                       "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", path},
                      120s);
    return r.exit_status == 0 ? path : std::string();
  }();
  return clip;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr));
  while (const char* name = d ? g_dir_read_name(d.get()) : nullptr)
    out.push_back(dir + "/" + name);
  std::sort(out.begin(), out.end());
  return out;
}

// One ffprobe answer as text: `entries` of stream `stream` (a:0, v:0).
std::string probe(const std::string& file, const std::string& stream, const std::string& entries) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", entries,
                     "-of", "csv=p=0", file},
                    30s);
  return r.out;
}

struct Track {
  unsigned packets = 0;
  unsigned went_back = 0;  // packets earlier than the one before
  double first = NAN, end = NAN;  // s: first packet's time, last packet's end
  double claimed = NAN;           // s: the stream's duration in the file, if it says one
};

Track track_of(const std::string& file, const std::string& stream) {
  Track t;
  GStrvPtr lines(g_strsplit(probe(file, stream, "packet=pts_time,duration_time").c_str(), "\n", -1));
  double last = NAN;
  for (gchar** l = lines.get(); l && *l; ++l) {
    GStrvPtr f(g_strsplit(*l, ",", 3));
    if (!f.get()[0] || !f.get()[1] || !*f.get()[0] || g_str_equal(f.get()[0], "N/A"))
      continue;
    const double pts = g_ascii_strtod(f.get()[0], nullptr);
    const double dur = g_ascii_strtod(f.get()[1], nullptr);
    if (t.packets++ == 0)
      t.first = pts;
    else if (pts < last)
      t.went_back++;
    last = pts;
    t.end = std::isnan(t.end) ? pts + dur : std::max(t.end, pts + dur);
  }
  const std::string d = probe(file, stream, "stream=duration");
  if (!d.empty() && g_ascii_isdigit(d[0]))
    t.claimed = g_ascii_strtod(d.c_str(), nullptr);
  return t;
}

class RecordAac : public testing::TestWithParam<const char*> {};

TEST_P(RecordAac, FfmpegPublishedAacKeepsItsTimeline) {
  const std::string format = GetParam();
  ASSERT_FALSE(aac_clip().empty()) << "could not make the clip";
  GCharPtr tmp(g_dir_make_tmp("gms-aac-XXXXXX", nullptr));
  const std::string dir = tmp.get();
  ServerProcess srv({write_temp_file("r.conf", "[server]\nverbose=1\nrecord-dir=" + dir +
                                                   "\n[path /live/*]\npublish=true\nrecord-format=" +
                                                   format + "\n")});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", aac_clip(),
             "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", srv.url("/live/x")});
  EXPECT_EQ(pub.wait(int(kClipSeconds * 1000) + 20000), 0) << pub.output();
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/x stopped"); }, 20s))
      << srv.log() << pub.output();
  auto files = files_in(dir + "/live/x");
  ASSERT_EQ(files.size(), 1u) << srv.log_tail();
  const std::string& seg = files[0];

  const Track video = track_of(seg, "v:0"), audio = track_of(seg, "a:0");
  std::printf("%s: video %u frames %.3f to %.3f s; audio %u frames %.3f to %.3f s, %u back, "
              "duration in the file %.3f s\n",
              seg.c_str(), video.packets, video.first, video.end, audio.packets, audio.first,
              audio.end, audio.went_back, audio.claimed);
  ASSERT_GT(video.packets, 0u);
  // 8 s at 48000 / 1024 frames a second, less what came before the
  // recording started.
  EXPECT_GT(audio.packets, unsigned(kClipSeconds * 46.875 * 0.8)) << srv.log_tail(60);
  EXPECT_EQ(audio.went_back, 0u);
  EXPECT_NEAR(audio.end - audio.first, video.end - video.first, 0.5);
  EXPECT_NEAR(audio.first, video.first, 0.5);
  if (!std::isnan(audio.claimed)) {  // MP4 and MPEG-TS say one, Matroska does not
    EXPECT_NEAR(audio.claimed, video.end - video.first, 0.5);
  }

  // Played back to its end: the frames of both tracks (MPEG-TS's ADTS audio
  // is exposed by the demuxer before its caps settle).
  const std::string name = seg.substr(seg.rfind('/') + 1);
  Viewer v(srv.url("/recordings/live/x/" + name), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.got_eos() || !v.error().empty(); }, 40s))
      << v.state() << srv.log_tail();
  EXPECT_TRUE(v.error().empty()) << v.error();
  std::printf("played back: %u video frames, %u audio buffers\n", v.video_frames(),
              v.audio_buffers());
  EXPECT_GE(v.video_frames(), video.packets * 9 / 10) << v.state();
  EXPECT_GE(v.audio_buffers(), audio.packets / 2) << v.state();
}

INSTANTIATE_TEST_SUITE_P(Formats, RecordAac, testing::Values("mp4", "mkv", "mpegts"));

}  // namespace
}  // namespace gms::test
