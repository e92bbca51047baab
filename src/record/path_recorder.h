// PathRecorder: records one path's relay channels to segmented files with
// msrecorder. It reads the same in-process relay as the viewers, so recording
// adds no back-end session and no transcoding: RTP is depayloaded and parsed,
// never decoded. Runs on the control context.
//
// A write error (disk full) stops the recording with a log line; it starts
// again every `retry` until the disk takes data again. Streaming goes on.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"

namespace gms::record {

struct RecordSettings {
  std::string dir;                  // files go to dir/<path>/
  std::string format = "mp4";       // mp4 (fragmented), mkv, mpegts
  unsigned segment_seconds = 60;
  unsigned delete_after = 0;        // s; 0: keep
  uint64_t max_bytes = 0;           // per path; 0: no cap
  std::chrono::seconds retry{10};
};

// The depayloader and parser for RTP caps, e.g. "rtph264depay ! h264parse";
// empty when the codec cannot be recorded; `video` tells which pad to use.
std::string depay_chain(GstCaps* rtp_caps, bool& video);

class PathRecorder {
 public:
  PathRecorder(std::string path, RecordSettings settings, GMainContext* control);
  ~PathRecorder();
  PathRecorder(const PathRecorder&) = delete;
  PathRecorder& operator=(const PathRecorder&) = delete;

  // Records the given relay channels (their current caps pick the codecs).
  void start(const std::vector<std::string>& channels);
  // Ends the current segment cleanly (EOS, bounded wait) and stops.
  void stop();
  bool running() const { return static_cast<bool>(pipeline_); }
  const std::string& error() const { return error_; }
  std::string directory() const;

 private:
  bool build(const std::vector<std::string>& channels);
  void on_message(GstMessage* msg);
  void fail(const std::string& why);

  const std::string path_;
  const RecordSettings settings_;
  Ref<GMainContext> control_;
  Ref<GstElement> pipeline_;
  SourceHolder bus_watch_, retry_;
  std::vector<std::string> channels_;
  std::string error_;
};

}  // namespace gms::record
