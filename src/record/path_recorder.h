// PathRecorder: records one path's relay channels to segmented files with
// msrecorder. It reads the same in-process relay as the viewers, so recording
// adds no back-end session and no transcoding: RTP is depayloaded and parsed,
// never decoded. Runs on the control context.
//
// A write error (disk full) stops the recording with a log line; it starts
// again every `retry` until the disk takes data again. Streaming goes on.
// What happened is kept in a RecordingStatus that the server owns per path,
// so that the HTTP API and the metrics still show the last error (and the
// error count goes on) after this recorder is gone and a new one starts.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gst-mediaserver/status.h>

#include "core/coalesced_call.h"
#include "gms/ref.h"
#include "gms/signal.h"
#include "record/input_drops.h"

namespace gms::record {

struct RecordSettings {
  std::string dir;                  // files go to dir/<path>/
  std::string format = "mp4";       // mp4 (fragmented), mkv, mpegts
  unsigned segment_seconds = 60;
  unsigned delete_after = 0;        // s; 0: keep
  uint64_t max_bytes = 0;           // per path; 0: no cap
  std::chrono::seconds retry{10};
  // How long the recorder waits for the other tracks once one has caps.
  std::chrono::milliseconds track_wait{2000};
};

// What a path's recording is doing, for the HTTP API and /metrics (the
// public snapshot type). Written by PathRecorder on the control context,
// read there (no lock).
using RecordingStatus = ::gms::RecordingStatus;
using ::gms::state_name;

// The depayloader and parser for RTP caps, e.g. "rtph264depay ! h264parse";
// empty when the codec cannot be recorded; `video` tells which pad to use,
// `parsed` (if given) gets the caps the chain gives, e.g. "video/x-h264".
std::string depay_chain(GstCaps* rtp_caps, bool& video, std::string* parsed = nullptr);
// Whether files of `format` (mp4, mkv, mpegts) can hold `parsed` media.
bool format_takes(const std::string& format, const std::string& parsed);

class PathRecorder {
 public:
  // `status` is the path's (see RecordingStatus); a fresh one if null.
  PathRecorder(std::string path, RecordSettings settings, GMainContext* control,
               std::shared_ptr<RecordingStatus> status = nullptr);
  ~PathRecorder();
  PathRecorder(const PathRecorder&) = delete;
  PathRecorder& operator=(const PathRecorder&) = delete;

  // Records the given relay channels. Their caps pick the codecs, so the
  // recording starts when every channel has delivered (caps and a packet),
  // or track-wait after the first one did: a publisher whose encoder starts
  // late is recorded once it sends.
  // `caps`: each channel's, when the source knows them all: the recording
  // starts at once.
  void start(const std::vector<std::string>& channels, std::vector<Ref<GstCaps>> caps = {});
  // Ends the current segment cleanly (EOS, bounded wait) and stops.
  void stop();
  bool running() const { return static_cast<bool>(pipeline_); }
  const std::string& error() const { return error_; }
  const RecordingStatus& status() const { return *status_; }
  std::string directory() const;
  // Called on the control context with each segment file it closes.
  void on_segment_closed(std::function<void(const std::string& file)> fn) {
    segment_closed_ = std::move(fn);
  }

 private:
  // Reads each channel until its caps come (a bus message per channel).
  void watch_caps();
  void on_watch_message(GstMessage* msg);
  // Every channel has caps, or track-wait ended: records what has caps.
  void record_now();
  // False with error_ set; `lasting`: the error would come again.
  bool build(bool& lasting);
  void on_message(GstMessage* msg);
  void segment_closed(const char* file);
  // The element's input queues dropped `total` buffers in this run.
  void dropped(uint64_t total);
  // Copies what the input probes dropped into status_.
  void fold_input_drops();
  // Stops; tries again after settings_.retry when `retry`.
  void fail(const std::string& why, bool retry = true);

  const std::string path_;
  const RecordSettings settings_;
  // The record root as the file system resolved it when this recorder was
  // made: files must stay under it even if a directory on the way (or the
  // root) is replaced by a link to somewhere else later.
  const std::string root_resolved_;
  Ref<GMainContext> control_;
  Ref<GstElement> pipeline_;
  SourceHolder bus_watch_, retry_;
  std::vector<std::string> channels_;
  // Control context only: the caps watcher and what it found so far.
  Ref<GstElement> watcher_;
  SourceHolder watcher_bus_, track_wait_;
  std::vector<Ref<GstCaps>> caps_;
  std::string error_;
  std::shared_ptr<RecordingStatus> status_;
  uint64_t dropped_before_ = 0;  // status_->dropped_buffers when this run started
  gint64 dropped_logged_us_ = 0;  // monotonic; the drops' warning at most every 10 s
  // What the probes before the depayloaders dropped, over every run of this
  // recorder, and status_'s counts before it.
  InputDropsPtr input_drops_;
  std::shared_ptr<CoalescedCall> fold_;
  uint64_t oversized_before_ = 0, refused_before_ = 0;
  std::function<void(const std::string&)> segment_closed_;
};

}  // namespace gms::record
