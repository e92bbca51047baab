#include "media_fixtures.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "gms/ref.h"
#include "process.h"

namespace gms::test {
namespace {

const std::string kV =
    "videotestsrc num-buffers=50 ! video/x-raw,width=160,height=120,framerate=10/1,format=I420";
const std::string kA48 =
    "audiotestsrc num-buffers=50 samplesperbuffer=4800 ! audio/x-raw,rate=48000,channels=1";
const std::string kA44 =
    "audiotestsrc num-buffers=50 samplesperbuffer=4410 ! audio/x-raw,rate=44100,channels=1";
const std::string kA8 =
    "audiotestsrc num-buffers=50 samplesperbuffer=800 ! audio/x-raw,rate=8000,channels=1";
const std::string kH264 = "x264enc speed-preset=ultrafast key-int-max=10 ! h264parse";
// No B-frames: ffmpeg cannot give H.265 B-frames from RTP timestamps when
// it copies them into Matroska (a limit of the client, not of the server).
const std::string kH265 =
    "x265enc speed-preset=ultrafast key-int-max=10 option-string=bframes=0 ! h265parse";

std::vector<MediaFixture> build() {
  auto av = [](std::string video, std::string mux, std::string audio) {
    return kV + " ! " + video + " ! " + mux + " name=m ! filesink location=@ " + audio + " ! m.";
  };
  return {
      {"h264_aac.mp4", av(kH264, "mp4mux", kA44 + " ! avenc_aac ! aacparse"), {"h264", "aac"}, 50},
      {"h264_mp3.mov",
       av(kH264, "qtmux", kA44 + " ! audioconvert ! lamemp3enc ! mpegaudioparse"),
       {"h264", "mp3"}, 50},
      {"h265_opus.mkv", av(kH265, "matroskamux", kA48 + " ! opusenc ! opusparse"),
       {"hevc", "opus"}, 50},
      {"vp8_vorbis.webm",
       av("vp8enc deadline=1 keyframe-max-dist=10", "webmmux",
          kA44 + " ! audioconvert ! vorbisenc"),
       {"vp8", "vorbis"}, 50},
      {"vp9_opus.mkv",
       av("vp9enc deadline=1 cpu-used=8 keyframe-max-dist=10 lag-in-frames=0", "matroskamux",
          kA48 + " ! opusenc"),
       {"vp9", "opus"}, 50},
      {"av1_opus.mkv",
       "videotestsrc num-buffers=10 ! video/x-raw,width=64,height=64,framerate=10/1 ! av1enc "
       "cpu-used=8 usage-profile=realtime ! av1parse ! matroskamux name=m ! filesink location=@ " +
           kA48 + " ! opusenc ! m.",
       {"opus"}, 0},
      {"h264_ac3.ts", av(kH264, "mpegtsmux", kA48 + " ! audioconvert ! avenc_ac3 ! ac3parse"),
       {"h264", "ac3"}, 50},
      {"h264_mp2.mpg",
       av(kH264, "mpegpsmux", kA44 + " ! audioconvert ! avenc_mp2 ! mpegaudioparse"),
       {"h264", "mp2"}, 50},
      {"mpeg4_mp3.avi",
       av("avenc_mpeg4 gop-size=10 ! mpeg4videoparse", "avimux",
          kA44 + " ! audioconvert ! lamemp3enc ! mpegaudioparse"),
       {"mpeg4", "mp3"}, 50},
      {"mjpeg_pcm.avi",
       av("jpegenc", "avimux", kA48 + " ! audioconvert ! audio/x-raw,format=S16LE"),
       {"mjpeg", "pcm_s16be"}, 50},
      {"h264_aac.flv", av(kH264, "flvmux", kA44 + " ! avenc_aac ! aacparse"), {"h264", "aac"}, 50},
      {"vorbis.ogg", kA44 + " ! audioconvert ! vorbisenc ! oggmux ! filesink location=@",
       {"vorbis"}, 0},
      {"clip.opus", kA48 + " ! opusenc ! oggmux ! filesink location=@", {"opus"}, 0},
      {"clip.264", kV + " ! " + kH264 + " ! video/x-h264,stream-format=byte-stream ! filesink location=@",
       {"h264"}, 50},
      {"clip.265", kV + " ! " + kH265 + " ! video/x-h265,stream-format=byte-stream ! filesink location=@",
       {"hevc"}, 50},
      {"clip.m4e", kV + " ! avenc_mpeg4 gop-size=10 ! mpeg4videoparse ! filesink location=@",
       {"mpeg4"}, 50},
      {"clip.aac", kA44 + " ! avenc_aac ! aacparse ! audio/mpeg,stream-format=adts ! filesink location=@",
       {"aac"}, 0},
      {"clip.mp3", kA44 + " ! audioconvert ! lamemp3enc ! mpegaudioparse ! filesink location=@",
       {"mp3"}, 0},
      {"clip.ac3", kA48 + " ! audioconvert ! avenc_ac3 ! ac3parse ! filesink location=@", {"ac3"}, 0},
      {"clip.wav", kA48 + " ! audioconvert ! audio/x-raw,format=S16LE ! wavenc ! filesink location=@",
       {"pcm_s16be"}, 0},
      {"ulaw.wav", kA8 + " ! audioconvert ! mulawenc ! wavenc ! filesink location=@", {"pcm_mulaw"}, 0},
      {"alaw.wav", kA8 + " ! audioconvert ! alawenc ! wavenc ! filesink location=@", {"pcm_alaw"}, 0},
      // avenc_mpeg2video does not negotiate in GStreamer 1.22 (libav time
      // base); MPEG-2 allows 25 fps but not 10: 125 frames.
      {"clip.mpv",
       "ffmpeg -v error -y -f lavfi -i testsrc=duration=5:size=320x240:rate=25 -c:v mpeg2video "
       "-g 25 -f mpeg2video @",
       {"mpeg2video"}, 125},
      {"clip.amr", kA8 + " ! amrnbenc ! avmux_amr ! filesink location=@", {"amr_nb"}, 0},
  };
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w)
    out.push_back(w);
  return out;
}

std::mutex g_lock;
std::string g_store;                    // where fixtures are made, once
std::map<std::string, bool> g_made;     // by name

void make_one(const std::string& name) {
  std::string path = g_store + "/" + name;
  if (name == "notmedia.txt") {
    g_file_set_contents(path.c_str(), "this is not a media file\n", -1, nullptr);
    return;
  }
  if (name == "truncated.mp4") {
    make_one("h264_aac.mp4");
    gchar* data = nullptr;
    gsize len = 0;
    g_file_get_contents((g_store + "/h264_aac.mp4").c_str(), &data, &len, nullptr);
    GCharPtr owned(data);
    // mp4mux writes the index (moov) at the end: the head alone has none.
    g_file_set_contents(path.c_str(), data, gssize(std::min<gsize>(len, 3000)), nullptr);
    return;
  }
  const MediaFixture& f = media_fixture(name);
  std::string launch = f.launch;
  launch.replace(launch.find('@'), 1, path);
  std::vector<std::string> argv;
  if (launch.rfind("ffmpeg ", 0) != 0)
    argv = {"gst-launch-1.0", "-q"};
  for (auto& w : split(launch))
    argv.push_back(w);
  RunResult r = run(argv, std::chrono::seconds(120));
  if (r.exit_status != 0)
    throw std::runtime_error("cannot make fixture " + name + ": " + r.err + r.out);
}

}  // namespace

const std::vector<MediaFixture>& media_fixtures() {
  static const std::vector<MediaFixture> all = build();
  return all;
}

const MediaFixture& media_fixture(const std::string& name) {
  for (const auto& f : media_fixtures())
    if (f.name == name)
      return f;
  throw std::runtime_error("no fixture " + name);
}

std::string make_media_dir(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> g(g_lock);
  if (g_store.empty()) {
    GCharPtr d(g_dir_make_tmp("gms-media-XXXXXX", nullptr));
    g_store = d.get();
  }
  std::vector<std::string> want = names;
  if (want.empty())
    for (const auto& f : media_fixtures())
      want.push_back(f.name);
  want.push_back("notmedia.txt");
  want.push_back("truncated.mp4");
  for (const auto& n : want) {
    if (!g_made[n]) {
      make_one(n);
      g_made[n] = true;
    }
  }
  GCharPtr d(g_dir_make_tmp("gms-root-XXXXXX", nullptr));
  std::string dir = d.get();
  for (const auto& n : want) {
    std::string from = g_store + "/" + n, to = dir + "/" + n;
    if (link(from.c_str(), to.c_str()) != 0)
      throw std::runtime_error("cannot link " + from);
  }
  return dir;
}

int count_video_packets(const std::string& file) {
  RunResult r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                     "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file},
                    std::chrono::seconds(30));
  if (r.exit_status != 0 || r.out.empty())
    return -1;
  return std::atoi(r.out.c_str());
}

std::string recorder_segment_name(long long us, const std::string& extension) {
  GDateTime* t = g_date_time_new_from_unix_local(us / G_USEC_PER_SEC);
  gchar* s = g_date_time_format(t, "%Y-%m-%d_%H-%M-%S");
  g_date_time_unref(t);
  char micro[16];
  std::snprintf(micro, sizeof micro, "-%06d.", int(us % G_USEC_PER_SEC));
  std::string name = std::string(s) + micro + extension;
  g_free(s);
  return name;
}

std::string iso_utc(long long us) {
  GDateTime* t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
  GDateTime* full = g_date_time_add(t, us % G_USEC_PER_SEC);
  gchar* s = g_date_time_format(full, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_date_time_unref(full);
  g_date_time_unref(t);
  std::string out = s;
  g_free(s);
  return out;
}

}  // namespace gms::test
