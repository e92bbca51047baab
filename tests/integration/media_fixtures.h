// Media files for the file-serving tests, made at test time with
// GStreamer's encoders: 5 s clips (video 160x120 at 10 fps = 50 frames, key
// frame every second) in every container and codec family served.
#pragma once

#include <string>
#include <vector>

namespace gms::test {

struct MediaFixture {
  std::string name;                 // file name in the fixture directory
  std::string launch;               // gst-launch-1.0 line that writes it, or a command line
                                    // starting with "ffmpeg " (@ = the path)
  std::vector<std::string> codecs;  // what ffprobe reports over RTSP, in SDP order
  unsigned video_frames;            // frames of the first video track, 0 if none
};

// Every fixture the tests know.
const std::vector<MediaFixture>& media_fixtures();
const MediaFixture& media_fixture(const std::string& name);

// A fresh directory holding the named fixtures (all when empty), plus
// "notmedia.txt" (text) and "truncated.mp4" (an MP4 cut before its index).
// Files are made once per process and copied (hard-linked) per call.
std::string make_media_dir(const std::vector<std::string>& names = {});

// The number of packets of the first video stream of a local file
// (ffprobe -count_packets), or -1.
int count_video_packets(const std::string& file);

// The name the recorder gives a segment that starts at `us` (µs since the
// epoch, named in local time), with `extension` ("mp4", "mkv").
std::string recorder_segment_name(long long us, const std::string& extension);

// `us` (µs since the epoch) as a recordings query's start=, in UTC:
// "2026-11-24T10:00:00.250000Z".
std::string iso_utc(long long us);

}  // namespace gms::test
