/**
 * SECTION:element-msrecorder
 * @title: msrecorder
 *
 * Writes parsed streams (one `video` pad, any number of `audio_%u` pads) into
 * time-segmented files: a new file every #GmsRecorder:segment-duration, cut
 * at a video key frame so every file starts with one (audio-only input is
 * cut on time). Every buffer goes to the current file's muxer as it arrives:
 * nothing is held back to find the cut, so what is on disk at a crash is
 * what the muxer has written. The default format is fragmented MP4 (mp4mux
 * with 0.25-second fragments: the moov comes first and each fragment is
 * complete on disk and written unbuffered, so a file stays playable up to
 * its last fragment after a kill -9, which loses the fragment being written:
 * measured 0.05 to 0.25 s of media with a 2 s GOP, 0.2 to 0.45 s through the
 * server's relay); Matroska and MPEG-TS are the alternatives.
 *
 * Each file is self-contained: its own muxer, its timeline starting at 0 (all
 * tracks of a file are shifted by the same amount, the running time at which
 * the key frame that opened it is decoded, so they stay in sync, and the
 * muxer's index, fragment times and a demuxer agree; a track that has sent
 * nothing by a cut is left out of the next file), and the wall-clock time of
 * its 0 in
 * its name and in a GST_TAG_DATE_TIME tag (UTC) sent to the muxer: mp4mux
 * 1.22 writes it as XMP (dc:date, to the microsecond; the mvhd creation time
 * is mp4mux's own clock at opening, to the second); matroskamux 1.22 keeps
 * only its own DateUTC (opening time, to the second).
 *
 * That wall-clock time is, when the buffer that opens the file carries a
 * GstReferenceTimestampMeta with caps `timestamp/x-unix` (msrelaysrc
 * wall-clock-meta: when the frame reached the relay), that time: a file that
 * starts with a relay's cached GOP, sent at once, is named when its first
 * frame was live, not when the GOP was sent (up to a GOP later). Otherwise it
 * comes from the pipeline clock when the input is live: running time + the
 * smallest lateness seen (clock running time at arrival minus buffer running
 * time, over the video's buffers): the time the frame was captured if some
 * frames come in without delay, so segments of one path line up and gaps
 * between them are real gaps (the first segment of a run that starts with
 * frames held back somewhere is then named when they arrived: late). Input
 * that is not live (a file read as fast as it goes): the first segment's
 * opening time plus the running time since.
 *
 * Tracks whose buffers carry that meta are put on one timeline: each
 * track's running times come from its own jitterbuffer, anchored at its
 * first packet's arrival, and a reader that starts with a relay's cache gets
 * the video's cached GOP and the audio's last packet at once, so the video
 * ran late against the audio by the GOP's age in every file of the run. A
 * track's running time r was live at (its first buffer's meta minus its
 * running time) + r; each track is shifted to the mapping of the track that
 * opened the first file. (Fragmented MP4 from mp4mux 1.22 starts every track
 * of a file at 0: in the first file of a run, audio that starts after the
 * cached video is early by that much; Matroska and MPEG-TS keep its start.)
 *
 * File names come from #GmsRecorder:location-pattern: `%path` is the
 * #GmsRecorder:path-name property, then strftime-style fields are filled from
 * the local wall-clock time at which the segment starts (`%f` = microseconds).
 * Missing directories are created; an existing name gets a `-N` suffix.
 *
 * At a cut the old file's muxer gets EOS and finishes on its own streaming
 * thread; its elements are then removed off the streaming threads. Audio
 * buffers with a running time before the cut still go to the old file.
 * Upstream is asked for a key frame (force-key-unit) once a cut is due.
 *
 * A file has the tracks that have sent a buffer: every muxer waits for data
 * on each of its pads, so a track that never sends (audio a publisher
 * announced and does not send) would keep every file empty. The first file
 * of a run waits up to #GmsRecorder:track-wait (2 s) from the first buffer
 * on any input for every input's first buffer (the inputs that have sent
 * wait in their queues meanwhile), then opens with those that have; a
 * track that starts later joins at the next cut.
 *
 * Retention: after each segment closes, segments this element wrote that
 * started more than #GmsRecorder:delete-after seconds ago are deleted, then
 * the oldest ones until their total is at most #GmsRecorder:max-bytes. Files
 * are deleted off the streaming thread. Files of earlier runs are left alone.
 *
 * Bus element messages: "msrecorder-segment-opened" and
 * "msrecorder-segment-closed" (fields: location (string), running-time
 * (guint64): the running time the segment starts at, resp. ends at),
 * "msrecorder-segment-deleted" (location).
 *
 * A write error (disk full, directory gone...) does not stop the pipeline:
 * the element posts a warning naming the file and an element message
 * "msrecorder-error" (location, message), stops recording, and from then on
 * accepts and drops its input (and still posts EOS when its input ends).
 *
 * Each input has a leaky queue (5 s) so a slow disk never stalls upstream.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *   msrecorder path-name=/tmp/rec segment-duration=10000000000
 * ]|
 */
#include "msrecorder.h"

#include <glib/gstdio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "elements.h"
#include "gms/ref.h"
#include "segment_policy.h"

GST_DEBUG_CATEGORY_STATIC(gms_recorder_debug);
#define GST_CAT_DEFAULT gms_recorder_debug

namespace {

constexpr const char* kDefaultPatternStem = "%path/%Y-%m-%d_%H-%M-%S-%f";
constexpr guint64 kDefaultSegmentDuration = 60 * GST_SECOND;
// mp4 fragment length: a kill -9 loses the fragment being written. 250 ms
// rather than 500: about 460 bytes/s more (two tracks; 0.8% of a 480 kbit/s
// recording) for a quarter second less at risk.
constexpr guint kFragmentMs = 250;
constexpr guint64 kQueueTime = 5 * GST_SECOND;
// How long the first file of a run waits for every input's first buffer: a
// publisher's audio and video start within a few ms of each other (a relay
// sends both cached GOPs at once); one that announced a track it never
// sends must not keep the path from recording.
constexpr guint64 kDefaultTrackWait = 2 * GST_SECOND;
// Buffers go to a file's muxer at kFileBase + (running time - file origin):
// the segment we push makes kFileBase running time 0, and a video frame
// decoded before the key frame that opened the file (B-frames) still has a
// valid, if negative, DTS running time.
constexpr GstClockTime kFileBase = 3600 * GST_SECOND;

enum {
  PROP_0,
  PROP_PATH_NAME,
  PROP_LOCATION_PATTERN,
  PROP_FORMAT,
  PROP_SEGMENT_DURATION,
  PROP_DELETE_AFTER,
  PROP_MAX_BYTES,
  PROP_TRACK_WAIT,
};

const char* extension(GmsRecorderFormat f) {
  switch (f) {
    case GMS_RECORDER_FORMAT_MKV:
      return ".mkv";
    case GMS_RECORDER_FORMAT_MPEGTS:
      return ".ts";
    default:
      return ".mp4";
  }
}

struct Settings {
  std::string path_name;
  std::string pattern;  // empty: the default for the format
  GmsRecorderFormat format = GMS_RECORDER_FORMAT_MP4;
  guint64 segment_duration = kDefaultSegmentDuration;
  guint64 track_wait = kDefaultTrackWait;
  gms::RetentionSettings retention;

  std::string effective_pattern() const {
    return pattern.empty() ? std::string(kDefaultPatternStem) + extension(format) : pattern;
  }
};

struct Track;

// One segment file: its muxer, its filesink, and a source pad of ours per
// track linked to a request pad of the muxer.
struct File {
  struct Out {
    gms::Ref<GstPad> pad;
    gms::Ref<GstCaps> sent_caps;  // written by the track's thread only
    bool primed = false;          // stream-start, caps, segment, tags sent (track's thread)
    std::atomic<bool> eos{false};  // whoever flips it sends the EOS
  };
  gms::Ref<GstElement> mux, sink;
  std::string location;
  GstClockTime origin = 0;  // running time of the file's 0
  gint64 wall_us = 0;       // wall clock of the file's 0
  std::atomic<GstClockTime> end{GST_CLOCK_TIME_NONE};  // running time of the cut, or of the last buffer
  std::map<Track*, std::unique_ptr<Out>> outs;          // fixed once the file is made
  std::atomic<bool> removed{false};  // its elements left the bin (once: teardown or READY)
};

struct Impl;

// One input: ghost pad -> leaky queue -> `in`, an unparented sink pad whose
// chain function routes buffers to the files' muxers.
struct Track {
  GmsRecorder* self = nullptr;
  std::string name;
  bool video = false;
  gms::Ref<GstPad> ghost;
  gms::Ref<GstElement> queue;
  gms::Ref<GstPad> in;
  gms::Ref<GstPad> proto_pad;  // on the prototype muxer: answers caps queries

  // Streaming state: only the track's queue thread touches these (and state
  // changes, while no data flows).
  GstSegment segment{};
  // Written by the track's thread; read by the thread that makes a file
  // too: under events_mutex.
  std::mutex events_mutex;
  gms::Ref<GstCaps> caps;
  gms::Ref<GstEvent> stream_start;
  std::shared_ptr<File> last;  // the file it pushed into last
  // Under files_mutex: it has sent a buffer this run (only such tracks are
  // in a file: a muxer waits for data on every pad it has); its input is
  // flushing (a wait for the other tracks ends).
  bool seen = false;
  bool flushing = false;
  // Track's thread: the wall clock (ns since the epoch) of this track's
  // running time 0, from its first buffer with a reference timestamp (see
  // reference_ns), and the shift that puts its running times on the run's
  // timeline (see align).
  std::optional<GstClockTimeDiff> wall_of_zero;
  GstClockTimeDiff shift = 0;
  bool need_key = true;
  bool key_requested = false;
  std::atomic<bool> ghost_eos{false};  // EOS reached our element pad
  std::atomic<bool> eos{false};        // EOS reached the segmenter
};

// C++ state of the element; made with new in init, deleted in finalize.
struct Impl {
  std::mutex settings_mutex;  // protects settings; held only to copy them
  Settings settings;

  // Control: request/release pads and state changes (element's state lock).
  // The list changes under files_mutex too (streaming threads read it).
  std::vector<std::unique_ptr<Track>> tracks;
  guint next_audio = 0;
  gms::Ref<GstElement> proto;  // a muxer of the format, never started: caps queries
  bool muxer_set = false;

  // Segmenter state, shared by the tracks' threads. Never held while
  // pushing data or posting messages of ours.
  std::mutex files_mutex;
  std::vector<std::shared_ptr<File>> files;  // not yet finished, oldest first
  std::shared_ptr<File> current;
  GstClockTime anchor_rt = GST_CLOCK_TIME_NONE;  // last segment start: running time
  gint64 anchor_wall = 0;                         // and wall clock
  bool live_known = false;                        // asked upstream this run
  bool live = false;
  bool have_lateness = false;
  GstClockTimeDiff min_lateness = 0;  // see note_lateness()
  guint file_count = 0;
  // The first file of a run waits for every track's first buffer (see
  // wait_for_tracks). `opener`: the buffer that is to open it, kept while
  // the tracks are awaited.
  struct Opener {
    GstClockTime start_rt = GST_CLOCK_TIME_NONE;
    std::optional<gint64> wall_us;                  // see reference_wall_us()
    std::optional<GstClockTimeDiff> wall_of_zero;  // its track's
  };
  std::optional<Opener> opener;
  // The wall clock of the run's running time 0: that of the track that
  // opened its first file (see align).
  std::optional<GstClockTimeDiff> run_wall_of_zero;
  std::optional<std::chrono::steady_clock::time_point> wait_deadline;  // from the first buffer of the run
  bool stopping = false;  // going to READY: waits end
  std::condition_variable tracks_cv;  // a track was seen, ended, left or flushes; the first file opened

  std::mutex segments_mutex;  // protects segments, open_location; never held while posting
  std::vector<gms::SegmentFile> segments;
  std::string open_location;

  std::atomic<bool> failed{false};
  std::atomic<bool> eos_posted{false};
  std::atomic<guint64> segment_duration{kDefaultSegmentDuration};  // a copy, read per buffer
  std::atomic<guint64> track_wait{kDefaultTrackWait};               // a copy, read per run

  Settings copy_settings() {
    std::lock_guard lock(settings_mutex);
    return settings;
  }
};

}  // namespace

struct _GmsRecorder {
  GstBin parent;
  Impl* impl;
};

G_DEFINE_TYPE_WITH_CODE(GmsRecorder, gms_recorder, GST_TYPE_BIN,
                        GST_DEBUG_CATEGORY_INIT(gms_recorder_debug, "msrecorder", 0,
                                                "mediaserver segmented recorder"))
GST_ELEMENT_REGISTER_DEFINE(msrecorder, "msrecorder", GST_RANK_NONE, GMS_TYPE_RECORDER)

GType gms_recorder_format_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GMS_RECORDER_FORMAT_MP4, "Fragmented MP4 (0.25 s fragments, playable after a crash)", "mp4"},
      {GMS_RECORDER_FORMAT_MKV, "Matroska", "mkv"},
      {GMS_RECORDER_FORMAT_MPEGTS, "MPEG transport stream", "mpegts"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GmsRecorderFormat", values));
  return type;
}

namespace {

GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE("video", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

Impl* impl_of(gpointer obj) { return GMS_RECORDER(obj)->impl; }

gms::Ref<GstElement> make_muxer(GmsRecorderFormat format) {
  const char* factory = format == GMS_RECORDER_FORMAT_MKV      ? "matroskamux"
                        : format == GMS_RECORDER_FORMAT_MPEGTS ? "mpegtsmux"
                                                               : "mp4mux";
  auto mux = gms::Ref<GstElement>::adopt(gst_element_factory_make(factory, nullptr));
  if (mux && format == GMS_RECORDER_FORMAT_MP4)
    g_object_set(mux.get(), "fragment-duration", kFragmentMs, nullptr);
  return mux;
}

// mp4mux and matroskamux name their pads by kind, mpegtsmux does not.
gms::Ref<GstPad> request_mux_pad(GstElement* mux, bool video) {
  const char* kind = video ? "video_%u" : "audio_%u";
  if (gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(mux), kind))
    return gms::Ref<GstPad>::adopt(gst_element_request_pad_simple(mux, kind));
  return gms::Ref<GstPad>::adopt(gst_element_request_pad_simple(mux, "sink_%d"));
}

// The format is fixed with the first pad: each track gets a pad on a
// prototype muxer that answers the caps queries of its upstream (a parser
// picks its output format from them) before any file exists.
bool ensure_muxer(GmsRecorder* self) {
  Impl* impl = self->impl;
  if (impl->muxer_set)
    return true;
  const Settings s = impl->copy_settings();
  auto mux = make_muxer(s.format);
  if (!mux) {
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("No muxer for the recording format"),
                      ("format %d: muxer element missing", int(s.format)));
    return false;
  }
  impl->proto = std::move(mux);
  impl->muxer_set = true;
  return true;
}

// An existing regular file is never overwritten: "-N" goes before the
// extension. (Devices such as /dev/full are used as they are.)
std::string unique_name(const std::string& name) {
  if (!g_file_test(name.c_str(), G_FILE_TEST_IS_REGULAR))
    return name;
  const auto slash = name.rfind('/');
  auto dot = name.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    dot = name.size();
  for (int i = 1; i < 1000; i++) {
    std::string candidate = name.substr(0, dot) + "-" + std::to_string(i) + name.substr(dot);
    if (!g_file_test(candidate.c_str(), G_FILE_TEST_EXISTS))
      return candidate;
  }
  return name;
}

void post_segment_message(GmsRecorder* self, const char* name, const std::string& location, GstClockTime rt) {
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self),
                                                   gst_structure_new(name, "location", G_TYPE_STRING,
                                                                     location.c_str(), "running-time",
                                                                     G_TYPE_UINT64, guint64(rt), nullptr)));
}

// Running time of the pipeline clock now; NONE without a clock or before
// PLAYING.
GstClockTime clock_running_time(GmsRecorder* self) {
  auto clock = gms::Ref<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(self)));
  if (!clock || GST_STATE(self) != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  const GstClockTime now = gst_clock_get_time(clock.get());
  return now >= base ? now - base : GST_CLOCK_TIME_NONE;
}

// Live input: notes how late a buffer of running time `rt` reached us. The
// smallest lateness seen since the last segment start is the best guess at when media of a running time
// was captured: a frame sent on at once (a live one) is on time, one held
// somewhere (a relay's cached GOP sent in a burst, a jitterbuffer's first
// packet) is late. Called under files_mutex by the track that cuts.
void note_lateness(Impl* impl, GstClockTime clock_rt, GstClockTime rt) {
  if (!GST_CLOCK_TIME_IS_VALID(clock_rt))
    return;
  const GstClockTimeDiff late = GstClockTimeDiff(clock_rt) - GstClockTimeDiff(rt);
  if (!impl->have_lateness || late < impl->min_lateness) {
    impl->min_lateness = late;
    impl->have_lateness = true;
  }
}

// Wall clock (µs since the epoch) of running time `rt`. Live input: the
// pipeline clock maps running time to wall clock, less the smallest
// lateness seen (see note_lateness). Otherwise (a file read as fast as it
// goes) the running time since the last segment start is added to that
// start's wall clock, so names are spaced by the media's duration.
// Called under files_mutex.
gint64 wall_clock_of(GmsRecorder* self, GstClockTime rt, GstClockTime clock_rt, std::optional<gint64> ref_wall) {
  Impl* impl = self->impl;
  const gint64 now = g_get_real_time();
  gint64 wall = now;
  if (ref_wall) {
    // The relay says when the opening frame was live: exact even for a
    // cached GOP that reached us in one burst (the lateness seen so far
    // is that of the burst's first frame: 0).
    wall = *ref_wall;
    GST_DEBUG_OBJECT(self, "running time %" GST_TIME_FORMAT ": live %" G_GINT64_FORMAT " µs ago (reference timestamp)",
                     GST_TIME_ARGS(rt), now - wall);
    if (impl->live && GST_CLOCK_TIME_IS_VALID(clock_rt) && impl->have_lateness)
      GST_DEBUG_OBJECT(self, "(the clock and lateness say %" G_GINT64_FORMAT " µs ago)",
                       now - (now - GstClockTimeDiff(clock_rt) / GST_USECOND +
                              (GstClockTimeDiff(rt) + impl->min_lateness) / GST_USECOND));
    impl->have_lateness = false;
  } else if (impl->live && GST_CLOCK_TIME_IS_VALID(clock_rt) && impl->have_lateness) {
    // Wall clock of clock running time 0, then that of rt's capture.
    const gint64 wall_of_zero = now - GstClockTimeDiff(clock_rt) / GST_USECOND;
    wall = wall_of_zero + (GstClockTimeDiff(rt) + impl->min_lateness) / GST_USECOND;
    GST_DEBUG_OBJECT(self, "running time %" GST_TIME_FORMAT ": captured %" G_GINT64_FORMAT " µs ago",
                     GST_TIME_ARGS(rt), now - wall);
    // The next segment's start is placed by the smallest lateness over
    // this segment: a source clock that drifts against ours or a jump in
    // its timestamps does not stay in the names for ever.
    impl->have_lateness = false;
  } else if (GST_CLOCK_TIME_IS_VALID(impl->anchor_rt)) {
    wall = impl->anchor_wall + (GstClockTimeDiff(rt) - GstClockTimeDiff(impl->anchor_rt)) / GST_USECOND;
  }
  impl->anchor_rt = rt;
  impl->anchor_wall = wall;
  return wall;
}

// A track sent a buffer: from now on it is in the files (at the next cut if
// a file is open). Under files_mutex.
void mark_seen(Impl* impl, Track* t) {
  if (t->seen)
    return;
  t->seen = true;
  impl->tracks_cv.notify_all();
}

// May the buffer at `start_rt` open the first file? Live: the video's first
// key frame does (the audio's first buffers come a few ms before or after
// it). Not live: whichever comes first (an encoder may take its time with
// the first frame while the audio runs ahead). Keeps the first such buffer
// as the opener. `awaited`: a video track that has sent nothing yet counts
// (the tracks are still awaited); after the wait, only one that has sent.
// Under files_mutex.
void note_opener(Impl* impl, Track* t, GstClockTime start_rt, std::optional<gint64> wall_us, bool awaited) {
  if (impl->opener)
    return;
  const bool has_video = std::any_of(impl->tracks.begin(), impl->tracks.end(), [&](const auto& o) {
    return o->video && (o->seen || (awaited && !o->eos.load()));
  });
  if (has_video && !t->video && impl->live)
    return;
  impl->opener = Impl::Opener{start_rt, wall_us, t->wall_of_zero};
}

// Has every track sent a buffer (or ended, or is flushing)? Under
// files_mutex.
bool all_tracks_seen(const Impl* impl) {
  return std::all_of(impl->tracks.begin(), impl->tracks.end(),
                     [](const auto& o) { return o->seen || o->eos.load() || o->flushing; });
}

// Before the first file of a run: blocks track `t`'s streaming thread (its
// queue takes what comes meanwhile) until every track has sent a buffer,
// or track-wait has passed since the run's first buffer, or another track
// opened the file, or we stop. The file then has the tracks that have sent:
// one that never does (audio a publisher announced and does not send) no
// longer keeps every muxer waiting, so the path records what it gets.
// Blocking rather than holding buffers back: each track's buffers are only
// ever pushed by its own thread (a muxer may block a push until the other
// tracks have data), and a track whose buffers were held would have no
// thread to push them once the file opens. Under files_mutex (`lock`).
void wait_for_tracks(GmsRecorder* self, Track* t, std::unique_lock<std::mutex>& lock) {
  Impl* impl = self->impl;
  const auto wait = std::chrono::nanoseconds(impl->track_wait.load(std::memory_order_relaxed));
  if (!impl->wait_deadline)
    impl->wait_deadline = std::chrono::steady_clock::now() + wait;
  auto done = [&] { return impl->current || impl->stopping || t->flushing || all_tracks_seen(impl); };
  if (done())
    return;
  GST_DEBUG_OBJECT(self, "%s: waiting for the other inputs' first buffers", t->name.c_str());
  if (impl->tracks_cv.wait_until(lock, *impl->wait_deadline, done))
    return;
  for (auto& o : impl->tracks)
    if (!o->seen && !o->eos.load())
      GST_INFO_OBJECT(self, "%s sent nothing in %" GST_TIME_FORMAT ": left out until it does",
                      o->name.c_str(), GST_TIME_ARGS(GstClockTime(wait.count())));
}

// The wall clock (ns since the epoch) in buffer `b`'s timestamp/x-unix
// reference timestamp meta (msrelaysrc wall-clock-meta: when the frame
// reached the relay, i.e. was live; it survives rtpjitterbuffer, the
// depayloaders and parsers); nullopt without one.
std::optional<GstClockTime> reference_ns(GstBuffer* b) {
  static GstStaticCaps unix_caps = GST_STATIC_CAPS("timestamp/x-unix");
  auto caps = gms::Ref<GstCaps>::adopt(gst_static_caps_get(&unix_caps));
  const GstReferenceTimestampMeta* meta = gst_buffer_get_reference_timestamp_meta(b, caps.get());
  if (!meta || !GST_CLOCK_TIME_IS_VALID(meta->timestamp))
    return std::nullopt;
  return meta->timestamp;
}

// The wall clock (µs since the epoch) of a file that buffer `b` opens at
// `start_rt`, from its meta; nullopt without one. The meta dates the frame
// shown at `rt`; the file's 0 is its decoding time, `start_rt`.
std::optional<gint64> reference_wall_us(GstBuffer* b, GstClockTime rt, GstClockTime start_rt) {
  const auto ns = reference_ns(b);
  if (!ns)
    return std::nullopt;
  return gint64(*ns / GST_USECOND) - gint64((rt - start_rt) / GST_USECOND);
}

// Puts track `t`'s running times on the run's timeline. Each track's
// timestamps come from its own jitterbuffer, which anchors them at its
// first packet's arrival; a reader that starts with a relay's cache gets
// the video's cached GOP (up to a GOP old) and the audio's last packet at
// once, so the video ran late against the audio by the GOP's age in every
// file of the run (0.48 s measured on a launch path recorded from its
// start, up to a GOP on a path whose recording starts later). The relay's
// wall-clock meta says when each was live: a track's running time r was
// live at its wall_of_zero + r, so on the run's timeline (that of the track
// that opened the first file) it is r + (wall_of_zero - run_wall_of_zero).
// Without metas nothing moves. Sets `rt` and `start_rt` from the track's
// own `in_rt` and `in_start`; false if the buffer falls before the run's 0.
// Under files_mutex.
bool align(Impl* impl, Track* t, GstClockTime in_rt, GstClockTime in_start, GstClockTime& rt,
           GstClockTime& start_rt) {
  const GstClockTimeDiff shift =
      t->wall_of_zero && impl->run_wall_of_zero ? *t->wall_of_zero - *impl->run_wall_of_zero : 0;
  if (shift != t->shift)
    GST_INFO_OBJECT(t->self, "%s: running times %+" G_GINT64_FORMAT " µs to follow the first file's track",
                    t->name.c_str(), shift / GST_USECOND);
  t->shift = shift;
  if (GstClockTimeDiff(in_start) + shift < 0)
    return false;
  rt = GstClockTime(GstClockTimeDiff(in_rt) + shift);
  start_rt = GstClockTime(GstClockTimeDiff(in_start) + shift);
  return true;
}

// Queries a file's muxer sends up a track (latency above all) go on to the
// track's upstream.
gboolean out_query(GstPad* pad, GstObject*, GstQuery* query) noexcept {
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  return gst_pad_peer_query(t->in.get(), query);
}

gboolean out_event(GstPad* pad, GstObject*, GstEvent* event) noexcept {
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  return gst_pad_push_event(t->in.get(), event);
}

// Sends stream-start, caps, a segment that makes kFileBase running time 0,
// and the file's wall-clock tag, before a track's first buffer in a file.
// A muxer pad that ends without caps makes mp4mux write a track a reader
// rejects (no sample description): a pad is primed before it can end.
void prime(Track* t, File& file, File::Out& out) {
  gms::Ref<GstCaps> caps;
  gms::Ref<GstEvent> stream_start;
  {
    std::lock_guard lock(t->events_mutex);
    caps = t->caps;
    stream_start = t->stream_start;
  }
  gms::GCharPtr id(g_strdup_printf("%s-%s", t->name.c_str(), file.location.c_str()));
  GstEvent* ss = gst_event_new_stream_start(id.get());
  if (stream_start) {
    GstStreamFlags flags = GST_STREAM_FLAG_NONE;
    gst_event_parse_stream_flags(stream_start.get(), &flags);
    gst_event_set_stream_flags(ss, flags);
  }
  gst_event_set_group_id(ss, 1);
  gst_pad_push_event(out.pad.get(), ss);
  if (caps) {
    gst_pad_push_event(out.pad.get(), gst_event_new_caps(caps.get()));
    out.sent_caps = caps;
  }
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = kFileBase;
  seg.time = 0;
  gst_pad_push_event(out.pad.get(), gst_event_new_segment(&seg));
  GstDateTime* dt = gst_date_time_new_from_unix_epoch_utc_usecs(file.wall_us);
  GstTagList* tags = gst_tag_list_new(GST_TAG_DATE_TIME, dt, nullptr);
  gst_date_time_unref(dt);
  gst_tag_list_set_scope(tags, GST_TAG_SCOPE_GLOBAL);
  gst_pad_push_event(out.pad.get(), gst_event_new_tag(tags));
  out.primed = true;
}

// Makes the next segment file, starting at running time `rt`. Called under
// files_mutex, on a streaming thread: creating the elements and opening the
// file is all the file system work done here.
std::shared_ptr<File> open_file(GmsRecorder* self, GstClockTime rt, GstClockTime clock_rt,
                                std::optional<gint64> ref_wall) {
  Impl* impl = self->impl;
  const Settings s = impl->copy_settings();
  const gint64 wall = wall_clock_of(self, rt, clock_rt, ref_wall);
  std::string name = gms::SegmentPolicy::format_location(s.effective_pattern(), s.path_name, wall);
  if (name.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Invalid location-pattern"), ("%s", s.effective_pattern().c_str()));
    name = s.path_name + "/segment-" + std::to_string(wall) + extension(s.format);
  }
  if (gchar* dir = g_path_get_dirname(name.c_str())) {
    if (g_mkdir_with_parents(dir, 0755) != 0)
      GST_WARNING_OBJECT(self, "cannot create %s: %s", dir, g_strerror(errno));
    g_free(dir);
  }
  name = unique_name(name);

  auto file = std::make_shared<File>();
  file->location = name;
  file->origin = rt;
  file->wall_us = wall;
  file->mux = make_muxer(s.format);
  file->sink = gms::Ref<GstElement>::adopt(gst_element_factory_make("filesink", nullptr));
  if (!file->mux || !file->sink)
    return nullptr;
  // async=false: a sink added to a playing pipeline must not make it
  // preroll again. Unbuffered: filesink's default 64 KB buffer held up to
  // 0.25 s of a 2 Mbit/s stream (8 s of 64 kbit/s audio) in memory, lost at
  // a kill -9; the muxer hands over whole fragments anyway.
  g_object_set(file->sink.get(), "location", name.c_str(), "async", FALSE, "buffer-mode", 2 /* unbuffered */,
               "enable-last-sample", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(self), file->mux.get(), file->sink.get(), nullptr);
  gst_element_link(file->mux.get(), file->sink.get());
  const guint n = impl->file_count++;
  for (auto& t : impl->tracks) {
    if (t->eos.load())
      continue;  // ended: the file would wait for it
    bool has_caps = false;
    {
      std::lock_guard lock(t->events_mutex);
      has_caps = bool(t->caps);
    }
    // Only tracks that have sent a buffer this run are in the file: every
    // muxer (aggregators all three) waits for data on each of its pads, and
    // one that ends without caps makes mp4mux write a track without a
    // sample description, which readers reject. A track that starts later
    // joins at the next cut; the first file waited for them all (see
    // wait_for_tracks).
    if (!t->seen || !has_caps) {
      GST_DEBUG_OBJECT(self, "%s left out of %s: %s", t->name.c_str(), name.c_str(),
                       t->seen ? "no caps" : "no buffer yet");
      continue;
    }
    auto mux_pad = request_mux_pad(file->mux.get(), t->video);
    if (!mux_pad) {
      GST_WARNING_OBJECT(self, "muxer refused a pad for %s", t->name.c_str());
      continue;
    }
    auto out = std::make_unique<File::Out>();
    gms::GCharPtr pad_name(g_strdup_printf("%s-%u", t->name.c_str(), n));
    out->pad = gms::Ref<GstPad>::adopt(gst_pad_new(pad_name.get(), GST_PAD_SRC));
    gst_pad_set_element_private(out->pad.get(), t.get());
    gst_pad_set_query_function(out->pad.get(), out_query);
    gst_pad_set_event_function(out->pad.get(), out_event);
    gst_pad_set_active(out->pad.get(), TRUE);
    gst_pad_link(out->pad.get(), mux_pad.get());
    file->outs.emplace(t.get(), std::move(out));
  }
  {
    std::lock_guard lock(impl->segments_mutex);
    impl->segments.push_back(gms::SegmentFile{name, wall, 0, true});
    impl->open_location = name;
  }
  if (!gst_element_sync_state_with_parent(file->sink.get()) || !gst_element_sync_state_with_parent(file->mux.get()))
    GST_WARNING_OBJECT(self, "segment %s did not start", name.c_str());
  // Tracks with caps are primed now, before any thread can end them here:
  // no one else sees the file yet.
  for (auto& [t, out] : file->outs) {
    bool has_caps = false;
    {
      std::lock_guard lock(t->events_mutex);
      has_caps = bool(t->caps);
    }
    if (has_caps)
      prime(t, *file, *out);
  }
  GST_INFO_OBJECT(self, "segment %u at %" GST_TIME_FORMAT ": %s", n, GST_TIME_ARGS(rt), name.c_str());
  impl->files.push_back(file);
  return file;
}

// Before the run's first file: waits for the other tracks' first buffers
// (wait_for_tracks), opens the file unless another track did meanwhile
// (`opened_here`), and puts `t`'s times on the run's timeline (align: the
// file's track set it). Returns the file, or null to drop buffer `b`
// (stopping, flushing, live audio before the video's first key frame, a
// time before the run's 0). Under files_mutex (`lock`).
std::shared_ptr<File> first_file(GmsRecorder* self, Track* t, std::unique_lock<std::mutex>& lock, GstBuffer* b,
                                 GstClockTime in_rt, GstClockTime in_start, GstClockTime& rt, GstClockTime& start_rt,
                                 bool& opened_here) {
  Impl* impl = self->impl;
  note_opener(impl, t, start_rt, reference_wall_us(b, rt, start_rt), true);
  wait_for_tracks(self, t, lock);
  if (impl->stopping || t->flushing)
    return nullptr;
  if (!impl->current) {
    note_opener(impl, t, start_rt, reference_wall_us(b, rt, start_rt), false);
    if (!impl->opener)
      return nullptr;  // live audio before the video's first key frame
    impl->run_wall_of_zero = impl->opener->wall_of_zero;
    // The clock now, not at the buffer's arrival: it maps running time to
    // wall clock now (the wait is not lateness).
    impl->current = open_file(self, impl->opener->start_rt,
                              impl->live ? clock_running_time(self) : GST_CLOCK_TIME_NONE, impl->opener->wall_us);
    impl->opener.reset();
    impl->tracks_cv.notify_all();
    opened_here = bool(impl->current);
  }
  if (!impl->current || !align(impl, t, in_rt, in_start, rt, start_rt))
    return nullptr;
  return impl->current;
}

void send_eos(File::Out& out) {
  if (!out.eos.exchange(true))
    gst_pad_push_event(out.pad.get(), gst_event_new_eos());
}

// Ends track `t` in every file older than `than` (all files when null):
// the track has moved on (or ended), and a muxer finishes once all its
// tracks have ended. `own`: called by the track's thread (else its last
// file is left to it). Not under files_mutex.
void end_track_before(Impl* impl, Track* t, const File* than, bool own) {
  std::vector<std::shared_ptr<File>> older;
  {
    std::lock_guard lock(impl->files_mutex);
    for (auto& f : impl->files) {
      if (f.get() == than)
        break;
      older.push_back(f);
    }
  }
  if (own && t->last && t->last.get() != than &&
      std::find(older.begin(), older.end(), t->last) == older.end())
    older.push_back(t->last);
  for (auto& f : older)
    if (auto it = f->outs.find(t); it != f->outs.end()) {
      File::Out& out = *it->second;
      // The track's own thread may prime (a first file it never sent to).
      if (own && !out.primed && !out.eos.load() && t->caps)
        prime(t, *f, out);
      send_eos(out);
    }
}

void request_key_frame(Track* t, GstClockTime rt) {
  if (t->key_requested)
    return;
  t->key_requested = true;
  GST_DEBUG_OBJECT(t->self, "segment due at %" GST_TIME_FORMAT ": asking upstream for a key frame", GST_TIME_ARGS(rt));
  gst_pad_push_event(t->in.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// The segmenter: routes each buffer of track `t` to a file at once.
GstFlowReturn in_chain(GstPad* pad, GstObject*, GstBuffer* raw) noexcept {
  auto buffer = gms::Ref<GstBuffer>::adopt(raw);
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  GmsRecorder* self = t->self;
  Impl* impl = self->impl;
  if (impl->failed.load(std::memory_order_relaxed))
    return GST_FLOW_OK;
  const GstClockTime pts = GST_BUFFER_PTS_IS_VALID(raw) ? GST_BUFFER_PTS(raw) : GST_BUFFER_DTS(raw);
  const GstClockTime in_rt = gst_segment_to_running_time(&t->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID(in_rt)) {
    GST_LOG_OBJECT(self, "%s: buffer without a running time dropped", t->name.c_str());
    return GST_FLOW_OK;
  }
  const bool key = !GST_BUFFER_FLAG_IS_SET(raw, GST_BUFFER_FLAG_DELTA_UNIT);
  // A file opened by this buffer starts at its decoding time: with
  // B-frames a key frame is decoded before it is shown, and a DTS before the
  // file's 0 makes mp4mux shift that track alone (the audio would be out
  // of sync by the reordering delay).
  GstClockTime in_start = in_rt;
  if (GST_BUFFER_DTS_IS_VALID(raw)) {
    guint64 dts_rt = 0;
    const int sign = gst_segment_to_running_time_full(&t->segment, GST_FORMAT_TIME, GST_BUFFER_DTS(raw), &dts_rt);
    if (sign > 0 && dts_rt < in_rt)
      in_start = dts_rt;
    else if (sign < 0)
      in_start = 0;
  }
  bool ask_live = false;
  {
    std::lock_guard lock(impl->files_mutex);
    ask_live = !impl->live_known;
    // Any buffer counts, a video frame before the first key frame too: the
    // track is sending, and its key frame is coming.
    mark_seen(impl, t);
  }
  if (t->video && t->need_key && !key)
    return GST_FLOW_OK;
  if (!t->wall_of_zero)
    if (const auto ns = reference_ns(raw))
      t->wall_of_zero = GstClockTimeDiff(*ns) - GstClockTimeDiff(in_rt);
  const guint64 duration = impl->segment_duration.load(std::memory_order_relaxed);
  if (ask_live) {
    // Once per run, before the first file: is the input live?
    auto q = gms::Ref<GstQuery>::adopt(gst_query_new_latency());
    gboolean live = FALSE;
    if (gst_pad_peer_query(t->in.get(), q.get()))
      gst_query_parse_latency(q.get(), &live, nullptr, nullptr);
    std::lock_guard lock(impl->files_mutex);
    impl->live_known = true;
    impl->live = live;
    GST_INFO_OBJECT(self, "input is %s", live ? "live" : "not live");
  }

  std::shared_ptr<File> target;
  std::shared_ptr<File> cut_from;
  std::shared_ptr<File> opened;
  GstClockTime rt = in_rt, start_rt = in_start;
  {
    std::unique_lock lock(impl->files_mutex);
    if (!align(impl, t, in_rt, in_start, rt, start_rt))
      return GST_FLOW_OK;  // before the run's first file
    bool has_video = false;
    Track* first_audio = nullptr;
    for (auto& o : impl->tracks) {
      if (!o->seen)
        continue;  // not in the files (yet)
      has_video |= o->video;
      if (!o->video && !first_audio)
        first_audio = o.get();
    }
    // The video track cuts at key frames; without video the first audio
    // track cuts on time; the others follow.
    const bool decides = t->video || (!has_video && t == first_audio);
    GstClockTime clock_rt = GST_CLOCK_TIME_NONE;
    if (impl->live && (decides || !impl->current)) {
      clock_rt = clock_running_time(self);
      note_lateness(impl, clock_rt, rt);
    }
    if (!impl->current) {
      bool opened_here = false;
      target = first_file(self, t, lock, raw, in_rt, in_start, rt, start_rt, opened_here);
      if (!target)
        return GST_FLOW_OK;
      if (opened_here)
        opened = target;
    } else if (decides) {
      const bool due = duration > 0 && rt >= impl->current->origin + duration;
      if (due && (key || !t->video)) {
        cut_from = impl->current;
        cut_from->end = rt;
        if (auto next = open_file(self, start_rt, clock_rt, reference_wall_us(raw, rt, start_rt)))
          opened = impl->current = next;
      } else if (due) {
        request_key_frame(t, rt);
      }
      target = impl->current;
    } else {
      // The newest file that started at or before this buffer.
      for (auto it = impl->files.rbegin(); it != impl->files.rend(); ++it)
        if ((*it)->origin <= rt) {
          target = *it;
          break;
        }
    }
    if (target && t->last && target != t->last && target->origin < t->last->origin)
      target = t->last;  // never back into an older file
  }
  if (!target)
    return GST_FLOW_OK;  // before the first file
  if (rt < target->origin) {
    // Before the file began (a video frame before the audio that opened
    // the first file): dropped, and video waits for its next key frame.
    t->need_key = t->video;
    return GST_FLOW_OK;
  }
  if (t->video)
    t->need_key = false;
  if (opened) {
    t->key_requested = false;
    post_segment_message(self, "msrecorder-segment-opened", opened->location, opened->origin);
  }
  if (cut_from) {
    // A track that sent nothing since the file before the last cut (audio
    // that stopped) is ended there, so that file can finish. A track busy
    // pushing ends its older files itself.
    std::vector<Track*> others;
    {
      std::lock_guard lock(impl->files_mutex);
      for (auto& o : impl->tracks)
        if (o.get() != t)
          others.push_back(o.get());
    }
    for (Track* o : others)
      end_track_before(impl, o, cut_from.get(), false);
  }
  if (t->last != target) {
    end_track_before(impl, t, target.get(), true);
    t->last = target;
  }
  auto it = target->outs.find(t);
  if (it == target->outs.end()) {
    GST_LOG_OBJECT(self, "%s: not in %s (joins at the next cut)", t->name.c_str(), target->location.c_str());
    return GST_FLOW_OK;
  }
  File::Out& out = *it->second;
  GST_LOG_OBJECT(self, "%s: %" GST_TIME_FORMAT " to %s%s", t->name.c_str(), GST_TIME_ARGS(rt),
                 target->location.c_str(), out.eos.load() ? " (ended there: dropped)" : "");
  if (out.eos.load())
    return GST_FLOW_OK;
  // t->caps is only written by this thread: read without the lock.
  if (!out.primed)
    prime(t, *target, out);
  else if (t->caps && out.sent_caps != t->caps) {
    gst_pad_push_event(out.pad.get(), gst_event_new_caps(t->caps.get()));
    out.sent_caps = t->caps;
  }

  GstBuffer* b = gst_buffer_make_writable(buffer.release());
  GST_BUFFER_PTS(b) = kFileBase + (rt - target->origin);
  if (GST_BUFFER_DTS_IS_VALID(b)) {
    guint64 dts_rt = 0;
    const int sign = gst_segment_to_running_time_full(&t->segment, GST_FORMAT_TIME, GST_BUFFER_DTS(b), &dts_rt);
    const GstClockTimeDiff d =
        (sign > 0 ? GstClockTimeDiff(dts_rt) : sign < 0 ? -GstClockTimeDiff(dts_rt) : 0) + t->shift;
    const GstClockTimeDiff rel = GstClockTimeDiff(kFileBase) + d - GstClockTimeDiff(target->origin);
    GST_BUFFER_DTS(b) = sign == 0 ? GST_CLOCK_TIME_NONE : GstClockTime(std::max<GstClockTimeDiff>(rel, 0));
  }
  target->end = rt;
  const GstFlowReturn ret = gst_pad_push(out.pad.get(), b);
  if (ret == GST_FLOW_OK || ret == GST_FLOW_EOS || ret == GST_FLOW_FLUSHING)
    return GST_FLOW_OK;
  GST_WARNING_OBJECT(self, "%s: %s from the muxer of %s", t->name.c_str(), gst_flow_get_name(ret),
                     target->location.c_str());
  return ret;  // the queue posts an error: fail() stops the recording
}

void post_own_eos(GmsRecorder* self) {
  if (self->impl->eos_posted.exchange(true))
    return;
  GST_INFO_OBJECT(self, "all inputs ended and all files are finished");
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_eos(GST_OBJECT(self)));
}

// EOS is ours to post: once every input has ended and every file is
// finished (or the recording failed: its files never finish).
void maybe_post_eos(GmsRecorder* self) {
  Impl* impl = self->impl;
  bool done = true;
  {
    std::lock_guard lock(impl->files_mutex);
    if (impl->tracks.empty())
      return;
    for (auto& t : impl->tracks)
      done &= impl->failed.load() ? t->ghost_eos.load() : t->eos.load();
    if (!impl->failed.load())
      done &= impl->files.empty();
  }
  if (done)
    post_own_eos(self);
}

gboolean in_event(GstPad* pad, GstObject*, GstEvent* event) noexcept {
  auto ev = gms::Ref<GstEvent>::adopt(event);
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_STREAM_START: {
      std::lock_guard lock(t->events_mutex);
      t->stream_start = ev;
      break;
    }
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      std::lock_guard lock(t->events_mutex);
      t->caps = gms::Ref<GstCaps>::borrow(caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment* seg = nullptr;
      gst_event_parse_segment(event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_WARNING(t->self, STREAM, FORMAT, ("Recording needs timestamps"),
                            ("%s: segment in %s", t->name.c_str(), gst_format_get_name(seg->format)));
        return FALSE;
      }
      gst_segment_copy_into(seg, &t->segment);
      break;
    }
    case GST_EVENT_EOS: {
      {
        // Under the lock: a track waiting for the others sees it ended.
        std::lock_guard lock(t->self->impl->files_mutex);
        t->eos = true;
        t->self->impl->tracks_cv.notify_all();
      }
      end_track_before(t->self->impl, t, nullptr, true);
      maybe_post_eos(t->self);
      break;
    }
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP: {
      // A flush ends a wait for the other tracks (the queue stops our
      // thread only once the chain function returns).
      std::lock_guard lock(t->self->impl->files_mutex);
      t->flushing = GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START;
      t->self->impl->tracks_cv.notify_all();
      break;
    }
    default:
      break;  // tags, gaps: not recorded
  }
  return TRUE;
}

gboolean in_query(GstPad* pad, GstObject* parent, GstQuery* query) noexcept {
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      if (t->proto_pad)
        return gst_pad_query(t->proto_pad.get(), query);
      break;
    case GST_QUERY_DRAIN:
      return TRUE;
    default:
      break;
  }
  return gst_pad_query_default(pad, parent, query);
}

// Retention, on a GStreamer thread-pool thread (gst_element_call_async).
void apply_retention(GstElement* element, gpointer) noexcept {
  Impl* impl = impl_of(element);
  const Settings s = impl->copy_settings();
  if (s.retention.delete_after_s == 0 && s.retention.max_bytes == 0)
    return;
  std::vector<std::string> deleted;
  {
    std::lock_guard lock(impl->segments_mutex);
    for (auto& seg : impl->segments) {
      GStatBuf st;
      seg.bytes = g_stat(seg.path.c_str(), &st) == 0 ? guint64(st.st_size) : 0;
    }
    const auto victims = gms::SegmentPolicy::to_delete(impl->segments, g_get_real_time(), s.retention);
    for (const auto& path : victims) {
      if (g_unlink(path.c_str()) != 0 && errno != ENOENT) {
        GST_WARNING_OBJECT(element, "cannot delete %s: %s", path.c_str(), g_strerror(errno));
        continue;
      }
      deleted.push_back(path);
      std::erase_if(impl->segments, [&](const gms::SegmentFile& f) { return f.path == path; });
    }
  }
  for (const auto& path : deleted) {
    GST_INFO_OBJECT(element, "retention: deleted %s", path.c_str());
    gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element),
                                                              gst_structure_new("msrecorder-segment-deleted", "location",
                                                                                G_TYPE_STRING, path.c_str(), nullptr)));
  }
}

// Takes a file's elements out of the bin (they may only go to NULL off
// their own streaming thread).
void remove_file_elements(GstElement* element, File& file) {
  if (file.removed.exchange(true))
    return;
  for (GstElement* e : {file.mux.get(), file.sink.get()}) {
    if (!e)
      continue;
    gst_element_set_locked_state(e, TRUE);
    gst_element_set_state(e, GST_STATE_NULL);
    if (GST_OBJECT_PARENT(e) == GST_OBJECT(element))
      gst_bin_remove(GST_BIN(element), e);
  }
  for (auto& [t, out] : file.outs) {
    if (auto peer = gms::Ref<GstPad>::adopt(gst_pad_get_peer(out->pad.get()))) {
      gst_pad_unlink(out->pad.get(), peer.get());
      gst_element_release_request_pad(file.mux.get(), peer.get());
    }
    gst_pad_set_active(out->pad.get(), FALSE);
  }
  // A bin loses its SINK flag with its last sink; we stay a sink.
  GST_OBJECT_FLAG_SET(element, GST_ELEMENT_FLAG_SINK);
}

struct Finished {
  std::shared_ptr<File> file;
};

void teardown_file(GstElement* element, gpointer data) noexcept {
  auto* done = static_cast<Finished*>(data);
  remove_file_elements(element, *done->file);
  apply_retention(element, nullptr);
  maybe_post_eos(GMS_RECORDER(element));
}

// A file's filesink reached EOS: the segment is complete on disk.
void file_finished(GmsRecorder* self, GstObject* sink) {
  Impl* impl = self->impl;
  std::shared_ptr<File> file;
  {
    std::lock_guard lock(impl->files_mutex);
    for (auto it = impl->files.begin(); it != impl->files.end(); ++it)
      if (GST_OBJECT((*it)->sink.get()) == sink) {
        file = *it;
        impl->files.erase(it);
        break;
      }
    if (file && impl->current == file)
      impl->current.reset();
  }
  if (!file)
    return;
  {
    std::lock_guard lock(impl->segments_mutex);
    for (auto& seg : impl->segments)
      if (seg.path == file->location)
        seg.open = false;
  }
  GST_INFO_OBJECT(self, "segment %s finished", file->location.c_str());
  post_segment_message(self, "msrecorder-segment-closed", file->location, file->end.load());
  gst_element_call_async(GST_ELEMENT(self), teardown_file, new Finished{file},
                         [](gpointer p) noexcept { delete static_cast<Finished*>(p); });
}

// A child failed: stop recording, tell the application once, keep the
// pipeline running (the ERROR itself never leaves this bin).
void fail(GmsRecorder* self, GstMessage* error) {
  Impl* impl = self->impl;
  if (impl->failed.exchange(true)) {
    GST_DEBUG_OBJECT(self, "after failure: %" GST_PTR_FORMAT, error);
    return;
  }
  gms::GErrorPtr err;
  gchar* debug = nullptr;
  gst_message_parse_error(error, gms::out(err), &debug);
  std::string location;
  {
    std::lock_guard lock(impl->segments_mutex);
    location = impl->open_location;
  }
  const char* what = err ? err->message : "unknown error";
  if (err && err->domain == GST_RESOURCE_ERROR)
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                        ("Recording stopped: cannot write \"%s\": %s", location.c_str(), what),
                        ("%s", debug ? debug : ""));
  else  // e.g. a stream the muxer cannot take
    GST_ELEMENT_WARNING(self, STREAM, FAILED,
                        ("Recording stopped: %s (file \"%s\")", what, location.c_str()),
                        ("%s", debug ? debug : ""));
  g_free(debug);
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self),
                                                   gst_structure_new("msrecorder-error", "location", G_TYPE_STRING,
                                                                     location.c_str(), "message", G_TYPE_STRING,
                                                                     what, nullptr)));
  // The failure may come while finishing the file after EOS went in.
  maybe_post_eos(self);
}

void handle_message(GstBin* bin, GstMessage* message) noexcept {
  auto* self = GMS_RECORDER(bin);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      // One file finished; our own EOS comes when they all have.
      file_finished(self, GST_MESSAGE_SRC(message));
      gst_message_unref(message);
      return;
    case GST_MESSAGE_ERROR:
      fail(self, message);
      gst_message_unref(message);
      return;
    default:
      break;
  }
  GST_BIN_CLASS(gms_recorder_parent_class)->handle_message(bin, message);
}

// Our sink pads: after a failure data is accepted and dropped, so upstream
// (a tee feeding viewers too) never sees an error from us.
GstFlowReturn pad_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) noexcept {
  if (impl_of(parent)->failed.load(std::memory_order_relaxed)) {
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  const GstFlowReturn ret = gst_proxy_pad_chain_default(pad, parent, buffer);
  return impl_of(parent)->failed.load(std::memory_order_relaxed) ? GST_FLOW_OK : ret;
}

GstFlowReturn pad_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) noexcept {
  if (impl_of(parent)->failed.load(std::memory_order_relaxed)) {
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  const GstFlowReturn ret = gst_proxy_pad_chain_list_default(pad, parent, list);
  return impl_of(parent)->failed.load(std::memory_order_relaxed) ? GST_FLOW_OK : ret;
}

// After a failure the files never finish; we post EOS ourselves once every
// input has ended, so the pipeline still sees the end of stream.
GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer user_data) noexcept {
  auto* t = static_cast<Track*>(user_data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  t->ghost_eos = true;
  if (!t->self->impl->failed.load())
    return GST_PAD_PROBE_OK;
  maybe_post_eos(t->self);
  return GST_PAD_PROBE_DROP;
}

void reset_stream(Track& t) {
  gst_segment_init(&t.segment, GST_FORMAT_TIME);
  t.caps.reset();
  t.stream_start.reset();
  t.last.reset();
  t.need_key = true;
  t.key_requested = false;
  t.seen = false;
  t.flushing = false;
  t.wall_of_zero.reset();
  t.shift = 0;
  t.ghost_eos = false;
  t.eos = false;
}

GstPad* request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* req_name, const GstCaps*) noexcept {
  auto* self = GMS_RECORDER(element);
  Impl* impl = self->impl;
  const bool video = g_str_equal(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "video");
  guint index = impl->next_audio;
  if (!video && req_name && sscanf(req_name, "audio_%u", &index) != 1)
    index = impl->next_audio;
  const std::string name = video ? "video" : "audio_" + std::to_string(index);
  if (gms::Ref<GstPad>::adopt(gst_element_get_static_pad(element, name.c_str()))) {
    GST_WARNING_OBJECT(self, video ? "only one video pad" : "pad %s exists", name.c_str());
    return nullptr;
  }
  if (!ensure_muxer(self))
    return nullptr;

  auto t = std::make_unique<Track>();
  t->self = self;
  t->name = name;
  t->video = video;
  reset_stream(*t);
  t->proto_pad = request_mux_pad(impl->proto.get(), video);
  if (!t->proto_pad) {
    GST_ERROR_OBJECT(self, "the muxer refused pad %s", name.c_str());
    return nullptr;
  }
  t->queue = gms::Ref<GstElement>::adopt(gst_element_factory_make("queue", nullptr));
  g_object_set(t->queue.get(), "leaky", 2 /* downstream: drop the oldest */, "max-size-buffers", 0u,
               "max-size-bytes", 0u, "max-size-time", kQueueTime, nullptr);
  t->in = gms::Ref<GstPad>::adopt(gst_pad_new((name + "-in").c_str(), GST_PAD_SINK));
  // Not a pad of any element: it finds its track through element_private.
  gst_pad_set_element_private(t->in.get(), t.get());
  gst_pad_set_chain_function(t->in.get(), in_chain);
  gst_pad_set_event_function(t->in.get(), in_event);
  gst_pad_set_query_function(t->in.get(), in_query);
  if (GST_STATE(element) > GST_STATE_READY || GST_STATE_PENDING(element) > GST_STATE_READY)
    gst_pad_set_active(t->in.get(), TRUE);
  gst_bin_add(GST_BIN(self), t->queue.get());
  auto queue_src = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(t->queue.get(), "src"));
  auto queue_sink = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(t->queue.get(), "sink"));
  gst_pad_link(queue_src.get(), t->in.get());
  gst_element_sync_state_with_parent(t->queue.get());

  GstPad* ghost = gst_ghost_pad_new_from_template(name.c_str(), queue_sink.get(), templ);
  gst_pad_set_chain_function(ghost, pad_chain);
  gst_pad_set_chain_list_function(ghost, pad_chain_list);
  gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, t.get(), nullptr);
  gst_pad_set_active(ghost, TRUE);
  t->ghost = gms::Ref<GstPad>::borrow(ghost);
  if (!video)
    impl->next_audio = std::max(impl->next_audio, index + 1);
  {
    std::lock_guard lock(impl->files_mutex);
    impl->tracks.push_back(std::move(t));
  }
  gst_element_add_pad(element, ghost);
  GST_DEBUG_OBJECT(self, "pad %s", name.c_str());
  return ghost;
}

void release_pad(GstElement* element, GstPad* pad) noexcept {
  Impl* impl = impl_of(element);
  std::unique_ptr<Track> t;
  {
    std::lock_guard lock(impl->files_mutex);
    auto it = std::find_if(impl->tracks.begin(), impl->tracks.end(),
                           [&](const auto& tr) { return tr->ghost.get() == pad; });
    if (it == impl->tracks.end())
      return;
    t = std::move(*it);
    impl->tracks.erase(it);
    // No longer awaited; and its own thread, if it waits for the others,
    // returns now (its queue stops below only once it has).
    t->flushing = true;
    impl->tracks_cv.notify_all();
  }
  gst_element_remove_pad(element, pad);
  gst_element_set_locked_state(t->queue.get(), TRUE);
  gst_element_set_state(t->queue.get(), GST_STATE_NULL);
  gst_bin_remove(GST_BIN(element), t->queue.get());
  gst_pad_set_active(t->in.get(), FALSE);
  gst_element_release_request_pad(impl->proto.get(), t->proto_pad.get());
}

// Back to READY: whatever files are open stay as written (fragmented MP4
// plays as it is), their elements go.
void drop_files(GmsRecorder* self) {
  Impl* impl = self->impl;
  std::vector<std::shared_ptr<File>> files;
  {
    std::lock_guard lock(impl->files_mutex);
    files.swap(impl->files);
    impl->current.reset();
    for (auto& t : impl->tracks) {
      reset_stream(*t);
      gst_pad_set_active(t->in.get(), FALSE);
    }
    impl->anchor_rt = GST_CLOCK_TIME_NONE;
    impl->live_known = impl->live = impl->have_lateness = false;
    impl->opener.reset();
    impl->wait_deadline.reset();
    impl->run_wall_of_zero.reset();
  }
  for (auto& f : files)
    remove_file_elements(GST_ELEMENT(self), *f);
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) noexcept {
  auto* self = GMS_RECORDER(element);
  Impl* impl = self->impl;
  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    const Settings s = impl->copy_settings();
    // Combinations are checked here: properties come in any order.
    if (gms::SegmentPolicy::uses_path(s.effective_pattern()) && s.path_name.empty()) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("msrecorder: path-name is not set"),
                        ("location-pattern \"%s\" uses %%path", s.effective_pattern().c_str()));
      return GST_STATE_CHANGE_FAILURE;
    }
    if (!ensure_muxer(self))
      return GST_STATE_CHANGE_FAILURE;
  } else if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    impl->failed.store(false);
    impl->eos_posted.store(false);
    std::lock_guard lock(impl->files_mutex);
    impl->stopping = false;
    for (auto& t : impl->tracks) {
      reset_stream(*t);
      gst_pad_set_active(t->in.get(), TRUE);
    }
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    // Before the pads are deactivated: a thread waiting for the other
    // tracks must return for its queue to stop.
    std::lock_guard lock(impl->files_mutex);
    impl->stopping = true;
    impl->tracks_cv.notify_all();
  }
  const GstStateChangeReturn ret = GST_ELEMENT_CLASS(gms_recorder_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    drop_files(self);
  return ret;
}

void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  std::lock_guard lock(impl->settings_mutex);
  Settings& s = impl->settings;
  switch (prop_id) {
    case PROP_PATH_NAME: {
      const char* v = g_value_get_string(value);
      s.path_name = v ? v : "";
      break;
    }
    case PROP_LOCATION_PATTERN: {
      const char* v = g_value_get_string(value);
      s.pattern = v ? v : "";
      break;
    }
    case PROP_FORMAT:
      if (impl->muxer_set && s.format != GmsRecorderFormat(g_value_get_enum(value)))
        GST_WARNING_OBJECT(object, "format must be set before pads are requested; ignored");
      else
        s.format = GmsRecorderFormat(g_value_get_enum(value));
      break;
    case PROP_SEGMENT_DURATION:
      s.segment_duration = g_value_get_uint64(value);
      impl->segment_duration.store(s.segment_duration);
      break;
    case PROP_DELETE_AFTER:
      s.retention.delete_after_s = g_value_get_uint64(value);
      break;
    case PROP_MAX_BYTES:
      s.retention.max_bytes = g_value_get_uint64(value);
      break;
    case PROP_TRACK_WAIT:
      s.track_wait = g_value_get_uint64(value);
      impl->track_wait.store(s.track_wait);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) noexcept {
  Impl* impl = impl_of(object);
  std::lock_guard lock(impl->settings_mutex);
  const Settings& s = impl->settings;
  switch (prop_id) {
    case PROP_PATH_NAME:
      g_value_set_string(value, s.path_name.c_str());
      break;
    case PROP_LOCATION_PATTERN:
      g_value_set_string(value, s.effective_pattern().c_str());
      break;
    case PROP_FORMAT:
      g_value_set_enum(value, s.format);
      break;
    case PROP_SEGMENT_DURATION:
      g_value_set_uint64(value, s.segment_duration);
      break;
    case PROP_DELETE_AFTER:
      g_value_set_uint64(value, s.retention.delete_after_s);
      break;
    case PROP_MAX_BYTES:
      g_value_set_uint64(value, s.retention.max_bytes);
      break;
    case PROP_TRACK_WAIT:
      g_value_set_uint64(value, s.track_wait);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void finalize(GObject* object) noexcept {
  delete std::exchange(GMS_RECORDER(object)->impl, nullptr);
  G_OBJECT_CLASS(gms_recorder_parent_class)->finalize(object);
}

}  // namespace

static void gms_recorder_class_init(GmsRecorderClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* bin_class = GST_BIN_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;

  const auto ready = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto playing = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_PATH_NAME,
      g_param_spec_string("path-name", "Path name",
                          "Directory (or prefix) that replaces %path in location-pattern; "
                          "required when the pattern uses %path",
                          "", playing));
  g_object_class_install_property(
      gobject_class, PROP_LOCATION_PATTERN,
      g_param_spec_string("location-pattern", "Location pattern",
                          "File name of each segment: %path = path-name, then strftime fields "
                          "(%Y %m %d %H %M %S, %f = microseconds) of the local wall-clock time the "
                          "segment starts at. Default \"%path/%Y-%m-%d_%H-%M-%S-%f.mp4\" (.mkv/.ts for "
                          "the other formats)",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_enum("format", "Format",
                        "Container: fragmented MP4 (0.25 s fragments), Matroska or MPEG-TS; set "
                        "before pads are requested",
                        GMS_TYPE_RECORDER_FORMAT, GMS_RECORDER_FORMAT_MP4, ready));
  g_object_class_install_property(
      gobject_class, PROP_SEGMENT_DURATION,
      g_param_spec_uint64("segment-duration", "Segment duration",
                          "Start a new file after this much running time (in ns), at the next "
                          "video key frame; 0 = one file",
                          0, G_MAXUINT64, kDefaultSegmentDuration, playing));
  g_object_class_install_property(
      gobject_class, PROP_DELETE_AFTER,
      g_param_spec_uint64("delete-after", "Delete after",
                          "Delete segments written by this element that started more than this "
                          "many seconds ago (checked when a segment closes); 0 = never",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64("max-bytes", "Maximum bytes",
                          "Delete the oldest segments written by this element while their total "
                          "size exceeds this (in bytes; the segment being written is never "
                          "deleted); 0 = unlimited",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(
      gobject_class, PROP_TRACK_WAIT,
      g_param_spec_uint64("track-wait", "Track wait",
                          "How long (in ns) the first file of a run waits for every input to send "
                          "its first buffer, from the first buffer on any input (the inputs that "
                          "have sent wait meanwhile, in their 5 s queues). An input that has sent "
                          "nothing by then is left out of the files until the first cut after it "
                          "sends (a muxer waits for data on every pad it has); 0 = no wait",
                          0, G_MAXUINT64, kDefaultTrackWait, playing));

  gst_element_class_set_static_metadata(element_class, "Segmented recorder", "Sink/Muxer",
                                        "Records parsed streams into time-segmented files cut at "
                                        "key frames, with retention by age and size",
                                        "gst-mediaserver");
  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_type_mark_as_plugin_api(GMS_TYPE_RECORDER_FORMAT, GstPluginAPIFlags(0));

  element_class->request_new_pad = request_new_pad;
  element_class->release_pad = release_pad;
  element_class->change_state = change_state;
  bin_class->handle_message = handle_message;
}

static void gms_recorder_init(GmsRecorder* self) {
  self->impl = new Impl();
  // A sink from the start (before any file's filesink is inside): the
  // pipeline waits for our EOS.
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
}
