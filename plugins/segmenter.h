// Segmenter: the decisions msrecorder takes for each buffer, without
// GStreamer objects, locks or clocks (time is passed in), so that they can
// be tested from tables of buffers.
//
// It decides which file a buffer goes to and when a new file starts (cuts
// at video key frames, or on time without video), puts every track on the
// run's timeline (track alignment from the wall-clock metas), maps running
// time to the wall clock a file is named after, and makes the first file
// of a run wait for every track's first buffer up to the track wait.
// msrecorder is the glue: it makes the files' elements, pushes, and waits
// when told to.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace gms {

class Segmenter {
 public:
  using TrackId = guint;
  using FileId = guint;
  using Steady = std::chrono::steady_clock::time_point;

  // One buffer of a track, as the glue sees it when it arrives.
  struct Input {
    GstClockTime rt = 0;        // running time of its PTS (the track's own timeline)
    GstClockTime start_rt = 0;  // of its decoding time when earlier (B-frames), else rt
    bool key = true;
    std::optional<GstClockTime> wall_ns;     // its wall-clock meta (ns since the epoch): when it was live
    GstClockTime clock_rt = GST_CLOCK_TIME_NONE;  // the pipeline clock's running time now (live input)
    gint64 now_us = 0;                        // the wall clock now (µs since the epoch)
    Steady now{};                             // for the track wait
  };

  // A file to make before the buffer is written.
  struct Opened {
    FileId id = 0;
    GstClockTime origin = 0;       // running time of the file's 0
    gint64 wall_us = 0;            // wall clock of the file's 0
    std::vector<TrackId> tracks;   // tracks that have sent, still running
  };

  // A track to end in a file (EOS on its pad there). `own`: the track's own
  // thread does it (it may still have to send the pad its caps first).
  struct End {
    TrackId track = 0;
    FileId file = 0;
    bool own = false;
  };

  enum class Verdict {
    kDrop,   // not recorded (before the run's first file, a video frame before its key frame...)
    kWait,   // the first file awaits the other tracks: call again by `wait_until` or when told
    kWrite,  // write to `file` at `rt` (running time on the run's timeline)
  };

  struct Decision {
    Verdict verdict = Verdict::kDrop;
    std::optional<Opened> opened;   // made by this buffer: the glue makes it whatever the verdict
    std::vector<End> ends;          // before writing
    bool request_key = false;       // a cut is due: ask upstream for a key frame
    FileId file = 0;
    GstClockTime rt = 0;            // aligned PTS running time
    GstClockTimeDiff shift = 0;     // what alignment added to this track's running times
    GstClockTime origin = 0;        // the file's 0
    Steady wait_until{};
    bool wake = false;              // waiting tracks should look again (a track's first buffer, a file opened)
  };

  // Settings copied in per run (they may change while stopped).
  void set_segment_duration(guint64 ns) { segment_duration_ = ns; }
  void set_track_wait(std::chrono::nanoseconds wait) { track_wait_ = wait; }

  TrackId add_track(bool video);
  void remove_track(TrackId id);

  // Live input is known from the first buffer on (asked upstream once).
  bool live_known() const { return live_known_; }
  bool live() const { return live_; }
  void set_live(bool live);

  Decision push(TrackId id, const Input& in);

  // The track's input ended: its pads end in every file.
  std::vector<End> end_of_stream(TrackId id);
  // Flushing (or its pad leaves): a wait for the other tracks ends.
  void set_flushing(TrackId id, bool flushing);
  // Going to READY: every wait ends.
  void set_stopping(bool stopping) { stopping_ = stopping; }

  // A file's sink has everything: it leaves the list of files in use.
  void finished(FileId id);
  // Every track has ended and every file finished.
  bool all_done() const;
  bool all_tracks_ended() const;
  // The last buffer written to a file (the cut, when another opened).
  GstClockTime file_end(FileId id) const;

  // A new run (READY to PAUSED, or back to READY): per-track and per-file
  // state cleared, tracks kept.
  void reset();

  // The wall clock (µs) a buffer shown at `rt` and decoded at `start_rt`
  // dates its decoding time to, from its meta.
  static std::optional<gint64> wall_of_start(const Input& in);

 private:
  struct Track {
    bool video = false;
    bool seen = false;      // sent a buffer this run: in the files
    bool eos = false;
    bool flushing = false;
    bool need_key = true;
    bool key_requested = false;
    std::optional<GstClockTimeDiff> wall_of_zero;  // wall clock (ns) of its running time 0
    GstClockTimeDiff shift = 0;
    std::optional<FileId> last;  // the file it wrote to last
  };
  struct File {
    FileId id = 0;
    GstClockTime origin = 0;
    GstClockTime end = GST_CLOCK_TIME_NONE;
  };
  struct Opener {
    GstClockTime start_rt = GST_CLOCK_TIME_NONE;
    std::optional<gint64> wall_us;
    std::optional<GstClockTimeDiff> wall_of_zero;
  };

  static bool align(Track& t, std::optional<GstClockTimeDiff> run_wall_of_zero, const Input& in, GstClockTime& rt,
                    GstClockTime& start_rt);
  bool decides(TrackId id) const;
  void note_lateness(GstClockTime clock_rt, GstClockTime rt);
  gint64 wall_clock_of(GstClockTime rt, GstClockTime clock_rt, gint64 now_us, std::optional<gint64> ref_wall);
  void note_opener(const Track& t, GstClockTime start_rt, std::optional<gint64> wall_us, bool awaited);
  bool all_seen() const;
  Opened open(GstClockTime origin, GstClockTime clock_rt, gint64 now_us, std::optional<gint64> ref_wall);
  File* find(FileId id);
  const File* find(FileId id) const;
  std::vector<End> ends_before(TrackId id, std::optional<FileId> than, bool own);
  Decision first_file(Track& t, const Input& in);

  guint64 segment_duration_ = 60 * GST_SECOND;
  std::chrono::nanoseconds track_wait_{2 * GST_SECOND};
  std::map<TrackId, Track> tracks_;
  TrackId next_track_ = 0;
  std::vector<File> files_;  // in use, oldest first
  std::optional<FileId> current_;
  FileId next_file_ = 0;
  GstClockTime anchor_rt_ = GST_CLOCK_TIME_NONE;  // last file start: running time
  gint64 anchor_wall_ = 0;                        // and wall clock
  bool live_known_ = false;
  bool live_ = false;
  bool have_lateness_ = false;
  GstClockTimeDiff min_lateness_ = 0;
  std::optional<Opener> opener_;
  std::optional<GstClockTimeDiff> run_wall_of_zero_;
  std::optional<Steady> wait_deadline_;
  bool stopping_ = false;
};

}  // namespace gms
