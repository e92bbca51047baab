// Files as users have them: made by ffmpeg (its default audio per container:
// ADTS AAC in MPEG-TS, MP2 in MPEG-PS, …), made at test time, 2 s each.
// Every track ffprobe finds in the file is in ffprobe's view of the RTSP
// URL, and packets of every track arrive.
#include <gtest/gtest.h>
#include <glib/gstdio.h>

#include <map>
#include <sstream>

#include "gms/ref.h"
#include "process.h"

namespace gms::test {
namespace {

struct FfmpegFile {
  std::string name;
  std::vector<std::string> codec_args;  // after the inputs
};

// Containers with the codecs ffmpeg gives them by default or that users
// ask it for; H.264 and H.265 where the container takes them (H.264 in
// MPEG-PS is read back as MPEG video by GStreamer's demuxer: not here).
const std::vector<FfmpegFile>& files() {
  static const std::vector<FfmpegFile> f = {
      {"h264_aac.ts", {"-c:v", "libx264", "-c:a", "aac"}},
      {"h265_aac.ts", {"-c:v", "libx265", "-c:a", "aac"}},
      {"h264_mp2.ts", {"-c:v", "libx264", "-c:a", "mp2"}},
      {"h265_ac3.ts", {"-c:v", "libx265", "-c:a", "ac3"}},
      {"h264_mp3.mkv", {"-c:v", "libx264", "-c:a", "libmp3lame"}},
      {"h265_opus.mkv", {"-c:v", "libx265", "-c:a", "libopus"}},
      {"h264_aac.mkv", {"-c:v", "libx264", "-c:a", "aac"}},
      {"h264_aac.mp4", {"-c:v", "libx264", "-c:a", "aac"}},
      {"h265_aac.mp4", {"-c:v", "libx265", "-tag:v", "hvc1", "-c:a", "aac"}},
      {"mpeg2_mp2.mpg", {"-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpeg"}},
  };
  return f;
}

// ffprobe's codec names, one per stream, in stream order (an MPEG-TS lists
// its streams twice: once more under its program).
std::vector<std::string> codecs_of(const std::vector<std::string>& input_args,
                                   const std::string& input) {
  std::vector<std::string> argv = {"ffprobe", "-v", "error"};
  argv.insert(argv.end(), input_args.begin(), input_args.end());
  argv.insert(argv.end(), {"-show_entries", "stream=index,codec_name", "-of", "csv=p=0", input});
  RunResult r = run(argv, 30s);
  std::map<int, std::string> by_index;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto comma = line.find(',');
    if (comma == std::string::npos)
      continue;
    std::string codec = line.substr(comma + 1);
    codec = codec.substr(0, codec.find(','));
    by_index[std::atoi(line.c_str())] = codec;
  }
  std::vector<std::string> out;
  for (const auto& [index, codec] : by_index)
    out.push_back(codec);
  return out;
}

// Packets per stream index that ffmpeg reads from `url` (framemd5 writes
// one line per packet: "index, dts, pts, duration, size, hash").
std::map<int, int> packets_per_stream(const std::string& url) {
  RunResult r = run({"ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-t", "2",
                     "-map", "0", "-c", "copy", "-f", "framemd5", "-"},
                    30s);
  std::map<int, int> n;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    n[std::atoi(line.c_str())]++;
  }
  return n;
}

class FfmpegFiles : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    GCharPtr d(g_dir_make_tmp("gms-ffmpeg-files-XXXXXX", nullptr));
    dir_ = new std::string(d.get());
    for (const auto& f : files()) {
      std::vector<std::string> argv = {
          "nice", "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
          "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
          "-t", "2", "-g", "10", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"};
      argv.insert(argv.end(), f.codec_args.begin(), f.codec_args.end());
      argv.push_back(*dir_ + "/" + f.name);
      RunResult r = run(argv, 120s);
      ASSERT_EQ(r.exit_status, 0) << f.name << ": " << r.err;
    }
  }
  static void TearDownTestSuite() {
    run({"rm", "-rf", *dir_}, 30s);
    delete dir_;
  }
  static std::string* dir_;
};
std::string* FfmpegFiles::dir_ = nullptr;

TEST_F(FfmpegFiles, EveryTrackServedAndPlayed) {
  ServerProcess srv({"-v", "--root", *dir_});
  ASSERT_TRUE(srv.ready()) << srv.log();
  for (const auto& f : files()) {
    std::vector<std::string> local = codecs_of({}, *dir_ + "/" + f.name);
    ASSERT_EQ(local.size(), 2u) << f.name;
    std::vector<std::string> served =
        codecs_of({"-rtsp_transport", "tcp", "-analyzeduration", "1000000"}, srv.url("/" + f.name));
    EXPECT_EQ(served, local) << f.name << "\n" << srv.log_tail();
    std::map<int, int> packets = packets_per_stream(srv.url("/" + f.name));
    // 2 s: 20 video frames; audio at least some tens of packets.
    EXPECT_EQ(packets.size(), 2u) << f.name;
    for (const auto& [index, n] : packets)
      EXPECT_GE(n, 10) << f.name << " stream " << index;
  }
  EXPECT_FALSE(srv.log_contains("left out of the SDP")) << srv.log();
}

}  // namespace
}  // namespace gms::test
