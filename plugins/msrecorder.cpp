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
 * server's relay); Matroska and MPEG-TS are the alternatives. Each fragment
 * header is written as a "free" box and typed "moof" once it is whole in the
 * file (gms::MoofGuard): ffmpeg refuses a whole file whose last moof is torn.
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
 * of a file at 0: in the first file of a run the audio starts after the
 * cached video, so its first buffer is stamped at the file's 0 and lasts
 * until the second; Matroska and MPEG-TS keep its start.)
 *
 * File names come from #GmsRecorder:location-pattern: `%path` is the
 * #GmsRecorder:path-name property, then strftime-style fields are filled from
 * the local wall-clock time at which the segment starts (`%f` = microseconds).
 * Missing directories are created; an existing name gets a `-N` suffix.
 *
 * At a cut the old file's muxer gets EOS and finishes on its own streaming
 * thread; its elements are then removed off the streaming threads. Audio
 * buffers with a running time before the cut still go to the old file.
 * Upstream is asked for a key frame (force-key-unit) once a cut is due. The
 * new file is named, its directories made and the file opened on a worker
 * thread, never on a streaming thread: meanwhile its muxer holds what it
 * has to write (its output waits at its source pad), and an input whose
 * push waits for the muxer meanwhile is one of our input queues' threads,
 * which leak rather than stall upstream, as on a slow disk. (A queue in
 * front of the filesink, so that no push ever waited for the open, cost
 * up to 0.4 % of a core more at 3 Mbit/s.) The "msrecorder-segment-opened"
 * message comes from that worker, once the file is open.
 *
 * The decisions (where each buffer goes, when to cut, the tracks' timeline,
 * the wall clock of each file, the first file's wait for the tracks) are
 * gms::Segmenter's, which takes the time as input; this element carries
 * them out.
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
 * ended more than #GmsRecorder:delete-after seconds ago are deleted, then
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
 * A directory that leads outside #GmsRecorder:confine-to (a symbolic link
 * put in its place) is such an error too, and nothing is opened there.
 *
 * Each input has a leaky queue (5 s) so a slow disk never stalls upstream.
 * What they drop is counted: "msrecorder-dropped" (buffers (guint64): the
 * total so far), at most once a second while they drop.
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
#include "moof_guard.h"
#include "record/confined_dir.h"
#include "queue_drops.h"
#include "segment_policy.h"
#include "segmenter.h"

GST_DEBUG_CATEGORY_STATIC(gms_recorder_debug);
#define GST_CAT_DEFAULT gms_recorder_debug

namespace {

using gms::Segmenter;

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
  PROP_CONFINE_TO,
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
  std::string confine_to;           // as given; empty: files go anywhere
  std::string confine_to_resolved;  // links followed, when it was set

  std::string effective_pattern() const {
    return pattern.empty() ? std::string(kDefaultPatternStem) + extension(format) : pattern;
  }
};

struct Track;

// One segment file: its muxer, its filesink, and a source pad of ours per
// track linked to a request pad of the muxer. The streaming thread that
// cuts makes the elements and starts the muxer; the file itself is named
// and opened on a worker thread (open_file): until then the muxer's output
// waits at its source pad.
struct File {
  struct Out {
    gms::Ref<GstPad> pad;
    gms::Ref<GstCaps> sent_caps;  // written by the track's thread only
    bool primed = false;          // stream-start, caps, segment, tags sent (track's thread)
    bool written = false;         // a buffer went in (track's thread)
    std::atomic<bool> eos{false};  // whoever flips it sends the EOS
  };
  Segmenter::FileId id = 0;
  bool first_at_zero = false;  // see first_sample_at_zero()
  gms::Ref<GstElement> mux, sink;
  gulong block_probe = 0;  // on the muxer's source pad until the file is open
  GstClockTime origin = 0;  // running time of the file's 0
  gint64 wall_us = 0;       // wall clock of the file's 0
  std::map<Track*, std::unique_ptr<Out>> outs;  // fixed once the file is made

  // Taken alone (no other mutex of ours inside it): opening and removing a
  // file's elements, which happen on two worker threads, one after the
  // other in either order.
  std::mutex state_mutex;
  std::string location;  // set when opened, before its sink starts
  bool removed = false;  // its elements left the bin (teardown or READY)
};

// One input: ghost pad -> leaky queue -> `in`, an unparented sink pad whose
// chain function routes buffers to the files' muxers as the segmenter says.
struct Track {
  GmsRecorder* self = nullptr;
  Segmenter::TrackId id = 0;
  std::string name;
  bool video = false;
  gms::Ref<GstPad> ghost;
  gms::Ref<GstElement> queue;
  gms::Ref<GstPad> in;
  gms::Ref<GstPad> proto_pad;  // on the prototype muxer: answers caps queries

  // Only the track's queue thread touches it (and state changes, while no
  // data flows).
  GstSegment segment{};
  // Written by the track's thread (which reads them without the lock); read
  // by the thread that makes a file too. Taken after files_mutex, never
  // with another of ours inside it.
  std::mutex events_mutex;
  gms::Ref<GstCaps> caps;
  gms::Ref<GstEvent> stream_start;
  std::atomic<bool> ghost_eos{false};  // EOS reached our element pad
  GstClockTimeDiff logged_shift = 0;   // track's thread: its shift last logged
  gms::QueueDrops drops;               // what the leaky queue dropped
};

// C++ state of the element; made with new in init, deleted in finalize.
//
// Lock order: files_mutex, then a track's events_mutex or segments_mutex or
// settings_mutex (each of those three is held alone, only to copy or update
// a few values); a File's state_mutex is never held with another. None is
// held while pushing buffers or posting our messages. Under files_mutex a
// cut makes the new file's elements, starts its muxer and sends
// its pads their first events: no other thread can see the file before;
// its file is opened by a worker without our locks.
struct Impl {
  std::mutex settings_mutex;  // protects settings; held only to copy them
  Settings settings;

  // Control: request/release pads and state changes (element's state lock).
  // The list changes under files_mutex too (streaming threads read it).
  std::vector<std::unique_ptr<Track>> tracks;
  guint next_audio = 0;
  gms::Ref<GstElement> proto;  // a muxer of the format, never started: caps queries
  bool muxer_set = false;

  // The segmenter and the files' elements, shared by the tracks' threads.
  std::mutex files_mutex;
  Segmenter segmenter;
  std::map<Segmenter::FileId, std::shared_ptr<File>> files;  // not yet finished
  std::condition_variable tracks_cv;  // a track was seen, ended, left or flushes; the first file opened

  std::mutex segments_mutex;  // protects segments, open_location
  std::vector<gms::SegmentFile> segments;
  std::string open_location;

  std::atomic<bool> failed{false};
  // Buffers the input queues dropped (a disk slower than the stream), and
  // when that was last posted (monotonic µs): at most once a second.
  std::atomic<guint64> dropped{0};
  std::atomic<gint64> dropped_posted_us{0};
  std::atomic<bool> eos_posted{false};
  std::atomic<bool> live_known{false};  // this run: the segmenter knows (a copy, read per buffer)
  std::atomic<guint64> segment_duration{kDefaultSegmentDuration};  // a copy, read per buffer
  std::atomic<guint64> track_wait{kDefaultTrackWait};               // a copy, read per buffer

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
  gms::GCharPtr id(g_strdup_printf("%s-%u", t->name.c_str(), file.id));
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

Track* track_of(Impl* impl, Segmenter::TrackId id) {
  for (auto& t : impl->tracks)
    if (t->id == id)
      return t.get();
  return nullptr;
}

// Holds the muxer's output until the file is open (the muxer writes its
// header at once).
GstPadProbeReturn hold_until_open(GstPad*, GstPadProbeInfo*, gpointer) noexcept { return GST_PAD_PROBE_OK; }

void fail(GmsRecorder* self, GstMessage* error);

// The file's directory cannot be made inside confine-to (a link to
// elsewhere, or a file, in its place since the recording started): nothing
// is opened, the recording stops like on a write error and the file's
// elements stay idle until the pipeline stops.
void refuse(GmsRecorder* self, const std::string& why) {
  gms::GErrorPtr err(g_error_new(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE, "%s", why.c_str()));
  auto msg = gms::Ref<GstMessage>::adopt(gst_message_new_error(GST_OBJECT(self), err.get(), nullptr));
  fail(self, msg.get());
}

struct FileJob {
  std::shared_ptr<File> file;
};

// Names and opens a file made by a cut, on a GStreamer thread-pool thread
// (gst_element_call_async): the directories, the check for a name taken
// and the open itself are file system work the streaming threads never do.
void open_file(GstElement* element, gpointer data) noexcept {
  auto* self = GMS_RECORDER(element);
  Impl* impl = self->impl;
  File& file = *static_cast<FileJob*>(data)->file;
  const Settings s = impl->copy_settings();
  std::string name = gms::SegmentPolicy::format_location(s.effective_pattern(), s.path_name, file.wall_us);
  if (name.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Invalid location-pattern"), ("%s", s.effective_pattern().c_str()));
    name = s.path_name + "/segment-" + std::to_string(file.wall_us) + extension(s.format);
  }
  gms::GCharPtr dir{g_path_get_dirname(name.c_str())};
  if (std::string why; !s.confine_to.empty() &&
                       !gms::make_dir_inside(dir.get(), s.confine_to, s.confine_to_resolved, why)) {
    refuse(self, why);
    return;
  } else if (s.confine_to.empty() && g_mkdir_with_parents(dir.get(), 0755) != 0) {
    GST_WARNING_OBJECT(self, "cannot create %s: %s", dir.get(), g_strerror(errno));
  }
  name = unique_name(name);
  {
    std::lock_guard lock(impl->segments_mutex);
    impl->segments.push_back(gms::SegmentFile{name, file.wall_us, 0, true});
    impl->open_location = name;
  }
  {
    std::lock_guard lock(file.state_mutex);
    if (file.removed)
      return;
    file.location = name;
    g_object_set(file.sink.get(), "location", name.c_str(), nullptr);
    gst_element_set_locked_state(file.sink.get(), FALSE);
    if (!gst_element_sync_state_with_parent(file.sink.get()))
      GST_WARNING_OBJECT(self, "segment %s did not start", name.c_str());
  }
  GST_INFO_OBJECT(self, "segment %u at %" GST_TIME_FORMAT ": %s", file.id, GST_TIME_ARGS(file.origin), name.c_str());
  // Before anything reaches the file: "opened" comes before its "closed".
  post_segment_message(self, "msrecorder-segment-opened", name, file.origin);
  std::lock_guard lock(file.state_mutex);
  if (!file.removed) {
    auto src = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(file.mux.get(), "src"));
    gst_pad_remove_probe(src.get(), file.block_probe);
  }
}

// Makes the elements of a file the segmenter opened, with a pad for each of
// its tracks that has caps (one that ends without caps makes mp4mux write a
// track without a sample description, which readers reject), and starts
// its muxer; the file itself opens on a worker (open_file). Under
// files_mutex, so that no other track writes to it or ends it before it is
// primed.
std::shared_ptr<File> make_file(GmsRecorder* self, const Segmenter::Opened& opened) {
  Impl* impl = self->impl;
  const Settings s = impl->copy_settings();
  auto file = std::make_shared<File>();
  file->id = opened.id;
  file->first_at_zero = s.format == GMS_RECORDER_FORMAT_MP4;
  file->origin = opened.origin;
  file->wall_us = opened.wall_us;
  file->mux = make_muxer(s.format);
  file->sink = gms::Ref<GstElement>::adopt(gst_element_factory_make("filesink", nullptr));
  if (!file->mux || !file->sink)
    return nullptr;
  // async=false: a sink added to a playing pipeline must not make it
  // preroll again. Unbuffered: filesink's default 64 KB buffer held up to
  // 0.25 s of a 2 Mbit/s stream (8 s of 64 kbit/s audio) in memory, lost at
  // a kill -9; the muxer hands over whole fragments anyway.
  g_object_set(file->sink.get(), "async", FALSE, "buffer-mode", 2 /* unbuffered */, "enable-last-sample", FALSE,
               nullptr);
  gst_element_set_locked_state(file->sink.get(), TRUE);  // started by open_file
  gst_bin_add_many(GST_BIN(self), file->mux.get(), file->sink.get(), nullptr);
  gst_element_link_many(file->mux.get(), file->sink.get(), nullptr);
  if (s.format == GMS_RECORDER_FORMAT_MP4)
    gms::MoofGuard::attach(file->mux.get(), file->sink.get());
  auto mux_src = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(file->mux.get(), "src"));
  file->block_probe =
      gst_pad_add_probe(mux_src.get(), GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, hold_until_open, nullptr, nullptr);
  for (Segmenter::TrackId id : opened.tracks) {
    Track* t = track_of(impl, id);
    if (!t)
      continue;
    bool has_caps = false;
    {
      std::lock_guard lock(t->events_mutex);
      has_caps = bool(t->caps);
    }
    if (!has_caps) {
      GST_DEBUG_OBJECT(self, "%s left out of segment %u: no caps", t->name.c_str(), file->id);
      continue;
    }
    auto mux_pad = request_mux_pad(file->mux.get(), t->video);
    if (!mux_pad) {
      GST_WARNING_OBJECT(self, "muxer refused a pad for %s", t->name.c_str());
      continue;
    }
    auto out = std::make_unique<File::Out>();
    gms::GCharPtr pad_name(g_strdup_printf("%s-%u", t->name.c_str(), file->id));
    out->pad = gms::Ref<GstPad>::adopt(gst_pad_new(pad_name.get(), GST_PAD_SRC));
    gst_pad_set_element_private(out->pad.get(), t);
    gst_pad_set_query_function(out->pad.get(), out_query);
    gst_pad_set_event_function(out->pad.get(), out_event);
    gst_pad_set_active(out->pad.get(), TRUE);
    gst_pad_link(out->pad.get(), mux_pad.get());
    file->outs.emplace(t, std::move(out));
  }
  for (const auto& t : impl->tracks)
    if (std::find(opened.tracks.begin(), opened.tracks.end(), t->id) == opened.tracks.end())
      GST_INFO_OBJECT(self, "%s not in segment %u: it has ended, or sent nothing yet (it joins at a cut after)",
                      t->name.c_str(), file->id);
  if (!gst_element_sync_state_with_parent(file->mux.get()))
    GST_WARNING_OBJECT(self, "segment %u did not start", file->id);
  for (auto& [t, out] : file->outs)
    prime(t, *file, *out);
  impl->files[file->id] = file;
  gst_element_call_async(GST_ELEMENT(self), open_file, new FileJob{file},
                         [](gpointer p) noexcept { delete static_cast<FileJob*>(p); });
  return file;
}

void send_eos(File::Out& out) {
  if (!out.eos.exchange(true))
    gst_pad_push_event(out.pad.get(), gst_event_new_eos());
}

// An end the segmenter asked for, with what it needs, taken under
// files_mutex and carried out without it.
struct EndJob {
  std::shared_ptr<File> file;
  Track* track = nullptr;
  bool own = false;
};

std::vector<EndJob> end_jobs(Impl* impl, const std::vector<Segmenter::End>& ends) {
  std::vector<EndJob> jobs;
  for (const auto& e : ends) {
    auto f = impl->files.find(e.file);
    Track* t = track_of(impl, e.track);
    if (f != impl->files.end() && t)
      jobs.push_back(EndJob{f->second, t, e.own});
  }
  return jobs;
}

void run_end_jobs(const std::vector<EndJob>& jobs) {
  for (const auto& j : jobs)
    if (auto it = j.file->outs.find(j.track); it != j.file->outs.end()) {
      File::Out& out = *it->second;
      // The track's own thread may prime (a file it never sent to); its
      // caps are only written by that thread.
      if (j.own && !out.primed && !out.eos.load() && j.track->caps)
        prime(j.track, *j.file, out);
      send_eos(out);
    }
}

void request_key_frame(Track* t, GstClockTime rt) {
  GST_DEBUG_OBJECT(t->self, "segment due at %" GST_TIME_FORMAT ": asking upstream for a key frame", GST_TIME_ARGS(rt));
  gst_pad_push_event(t->in.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// Once per run, before the first file: is the input live?
void learn_live(GmsRecorder* self, Track* t) {
  Impl* impl = self->impl;
  if (impl->live_known.load(std::memory_order_acquire))
    return;
  auto q = gms::Ref<GstQuery>::adopt(gst_query_new_latency());
  gboolean live = FALSE;
  if (gst_pad_peer_query(t->in.get(), q.get()))
    gst_query_parse_latency(q.get(), &live, nullptr, nullptr);
  std::lock_guard lock(impl->files_mutex);
  impl->segmenter.set_live(live);
  impl->live_known.store(true, std::memory_order_release);
  GST_INFO_OBJECT(self, "input is %s", live ? "live" : "not live");
}

// What the segmenter says about one buffer, asked again after each wait
// for the other tracks (the first file of a run); the files it opens made.
// Under files_mutex (`lock`).
Segmenter::Decision decide(GmsRecorder* self, Track* t, Segmenter::Input in, std::unique_lock<std::mutex>& lock) {
  Impl* impl = self->impl;
  for (;;) {
    in.clock_rt = impl->segmenter.live() ? clock_running_time(self) : GST_CLOCK_TIME_NONE;
    in.now_us = g_get_real_time();
    in.now = std::chrono::steady_clock::now();
    Segmenter::Decision d = impl->segmenter.push(t->id, in);
    if (d.opened && !make_file(self, *d.opened)) {
      GST_ELEMENT_WARNING(self, CORE, MISSING_PLUGIN, ("Cannot make a segment file"), ("muxer or filesink"));
      impl->segmenter.finished(d.opened->id);
    }
    if (d.wake)
      impl->tracks_cv.notify_all();
    if (d.verdict != Segmenter::Verdict::kWait)
      return d;
    GST_DEBUG_OBJECT(self, "%s: waiting for the other inputs' first buffers", t->name.c_str());
    impl->tracks_cv.wait_until(lock, d.wait_until);
  }
}

// mp4mux 1.22 in fragmented mode writes no edit list and starts every track
// of a file at 0, taking its first sample there: a track whose first buffer
// comes after the file's 0 plays early by that much, all through the file.
// That is the audio of the first file of a run, which starts with the
// relay's cached GOP (the audio cache is a packet): early by up to the GOP's
// age. Stamping a track's first buffer at the file's 0 keeps every later
// one where it belongs: mp4mux makes a sample last until the next one, as
// it does across any gap. Only that first frame moves (by the gap: 20 ms of
// audio at 0 rather than where it came). Matroska and MPEG-TS keep each
// track's start: nothing to do there.
void first_sample_at_zero(const Track* t, GstBuffer* b) {
  const GstClockTime first = GST_BUFFER_DTS_IS_VALID(b) ? GST_BUFFER_DTS(b) : GST_BUFFER_PTS(b);
  if (!GST_CLOCK_TIME_IS_VALID(first) || first <= kFileBase)
    return;
  const GstClockTime late = first - kFileBase;
  GST_DEBUG_OBJECT(t->self, "%s starts %" GST_TIME_FORMAT " into the file: its first buffer goes to 0",
                   t->name.c_str(), GST_TIME_ARGS(late));
  GST_BUFFER_PTS(b) -= std::min(late, GST_BUFFER_PTS(b));
  if (GST_BUFFER_DTS_IS_VALID(b))
    GST_BUFFER_DTS(b) -= late;
}

// The segmenter's verdict carried out: each buffer of track `t` goes to a
// file at once.
GstFlowReturn in_chain(GstPad* pad, GstObject*, GstBuffer* raw) noexcept {
  auto buffer = gms::Ref<GstBuffer>::adopt(raw);
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  GmsRecorder* self = t->self;
  Impl* impl = self->impl;
  if (impl->failed.load(std::memory_order_relaxed))
    return GST_FLOW_OK;
  const GstClockTime pts = GST_BUFFER_PTS_IS_VALID(raw) ? GST_BUFFER_PTS(raw) : GST_BUFFER_DTS(raw);
  Segmenter::Input in;
  in.rt = gst_segment_to_running_time(&t->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID(in.rt)) {
    GST_LOG_OBJECT(self, "%s: buffer without a running time dropped", t->name.c_str());
    return GST_FLOW_OK;
  }
  in.key = !GST_BUFFER_FLAG_IS_SET(raw, GST_BUFFER_FLAG_DELTA_UNIT);
  // A file opened by this buffer starts at its decoding time: with
  // B-frames a key frame is decoded before it is shown, and a DTS before the
  // file's 0 makes mp4mux shift that track alone (the audio would be out
  // of sync by the reordering delay).
  in.start_rt = in.rt;
  if (GST_BUFFER_DTS_IS_VALID(raw)) {
    guint64 dts_rt = 0;
    const int sign = gst_segment_to_running_time_full(&t->segment, GST_FORMAT_TIME, GST_BUFFER_DTS(raw), &dts_rt);
    if (sign > 0 && dts_rt < in.rt)
      in.start_rt = dts_rt;
    else if (sign < 0)
      in.start_rt = 0;
  }
  in.wall_ns = reference_ns(raw);
  learn_live(self, t);

  Segmenter::Decision d;
  std::shared_ptr<File> target;
  std::vector<EndJob> ends;
  {
    std::unique_lock lock(impl->files_mutex);
    impl->segmenter.set_segment_duration(impl->segment_duration.load(std::memory_order_relaxed));
    impl->segmenter.set_track_wait(std::chrono::nanoseconds(impl->track_wait.load(std::memory_order_relaxed)));
    d = decide(self, t, in, lock);
    ends = end_jobs(impl, d.ends);
    if (d.verdict == Segmenter::Verdict::kWrite)
      if (auto it = impl->files.find(d.file); it != impl->files.end())
        target = it->second;
  }
  if (d.verdict == Segmenter::Verdict::kWrite && d.shift != std::exchange(t->logged_shift, d.shift))
    GST_INFO_OBJECT(self, "%s: running times %+" G_GINT64_FORMAT " µs to follow the first file's track",
                    t->name.c_str(), d.shift / GST_USECOND);
  if (d.request_key)
    request_key_frame(t, in.rt);
  run_end_jobs(ends);
  if (!target)
    return GST_FLOW_OK;
  auto it = target->outs.find(t);
  if (it == target->outs.end()) {
    GST_LOG_OBJECT(self, "%s: not in segment %u (joins at the next cut)", t->name.c_str(), target->id);
    return GST_FLOW_OK;
  }
  File::Out& out = *it->second;
  GST_LOG_OBJECT(self, "%s: %" GST_TIME_FORMAT " to segment %u%s", t->name.c_str(), GST_TIME_ARGS(d.rt), target->id,
                 out.eos.load() ? " (ended there: dropped)" : "");
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
  GST_BUFFER_PTS(b) = kFileBase + (d.rt - d.origin);
  if (GST_BUFFER_DTS_IS_VALID(b)) {
    guint64 dts_rt = 0;
    const int sign = gst_segment_to_running_time_full(&t->segment, GST_FORMAT_TIME, GST_BUFFER_DTS(b), &dts_rt);
    const GstClockTimeDiff dts =
        (sign > 0 ? GstClockTimeDiff(dts_rt) : sign < 0 ? -GstClockTimeDiff(dts_rt) : 0) + d.shift;
    const GstClockTimeDiff rel = GstClockTimeDiff(kFileBase) + dts - GstClockTimeDiff(d.origin);
    GST_BUFFER_DTS(b) = sign == 0 ? GST_CLOCK_TIME_NONE : GstClockTime(std::max<GstClockTimeDiff>(rel, 0));
  }
  if (!std::exchange(out.written, true) && target->first_at_zero)
    first_sample_at_zero(t, b);
  const GstFlowReturn ret = gst_pad_push(out.pad.get(), b);
  if (ret == GST_FLOW_OK || ret == GST_FLOW_EOS || ret == GST_FLOW_FLUSHING)
    return GST_FLOW_OK;
  GST_WARNING_OBJECT(self, "%s: %s from the muxer of segment %u", t->name.c_str(), gst_flow_get_name(ret),
                     target->id);
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
    if (impl->failed.load())
      for (auto& t : impl->tracks)
        done &= t->ghost_eos.load();
    else
      done = impl->segmenter.all_done();
  }
  if (done)
    post_own_eos(self);
}

gboolean in_event(GstPad* pad, GstObject*, GstEvent* event) noexcept {
  auto ev = gms::Ref<GstEvent>::adopt(event);
  auto* t = static_cast<Track*>(gst_pad_get_element_private(pad));
  Impl* impl = t->self->impl;
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
      std::vector<EndJob> jobs;
      {
        // Under the lock: a track waiting for the others sees it ended.
        std::lock_guard lock(impl->files_mutex);
        jobs = end_jobs(impl, impl->segmenter.end_of_stream(t->id));
        impl->tracks_cv.notify_all();
      }
      run_end_jobs(jobs);
      maybe_post_eos(t->self);
      break;
    }
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP: {
      // A flush ends a wait for the other tracks (the queue stops our
      // thread only once the chain function returns).
      std::lock_guard lock(impl->files_mutex);
      impl->segmenter.set_flushing(t->id, GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START);
      impl->tracks_cv.notify_all();
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
  std::lock_guard lock(file.state_mutex);
  if (std::exchange(file.removed, true))
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
  GstClockTime end = GST_CLOCK_TIME_NONE;
  {
    std::lock_guard lock(impl->files_mutex);
    for (auto it = impl->files.begin(); it != impl->files.end(); ++it)
      if (GST_OBJECT(it->second->sink.get()) == sink) {
        file = it->second;
        impl->files.erase(it);
        break;
      }
    if (file) {
      end = impl->segmenter.file_end(file->id);
      impl->segmenter.finished(file->id);
    }
  }
  if (!file)
    return;
  std::string location;
  {
    std::lock_guard lock(file->state_mutex);
    location = file->location;
  }
  {
    std::lock_guard lock(impl->segments_mutex);
    for (auto& seg : impl->segments)
      if (seg.path == location) {
        seg.open = false;
        seg.end_us = g_get_real_time();
      }
  }
  GST_INFO_OBJECT(self, "segment %s finished", location.c_str());
  post_segment_message(self, "msrecorder-segment-closed", location, end);
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
// A track's queue is full and drops its oldest data: the disk (or the
// muxer) is slower than the stream. Counted, and posted at most once a
// second as "msrecorder-dropped" (buffers: the element's total so far).
void on_overrun(GstElement* queue, gpointer data) noexcept {
  auto* t = static_cast<Track*>(data);
  Impl* impl = t->self->impl;
  const guint64 fresh = t->drops.newly_dropped(queue);
  if (fresh == 0)
    return;
  const guint64 total = impl->dropped.fetch_add(fresh) + fresh;
  const gint64 now = g_get_monotonic_time();
  gint64 last = impl->dropped_posted_us.load();
  if (now - last < G_USEC_PER_SEC || !impl->dropped_posted_us.compare_exchange_strong(last, now))
    return;
  GST_INFO_OBJECT(t->self, "%s: %" G_GUINT64_FORMAT " buffers dropped so far", t->name.c_str(), total);
  gst_element_post_message(GST_ELEMENT(t->self),
                           gst_message_new_element(GST_OBJECT(t->self),
                                                   gst_structure_new("msrecorder-dropped", "buffers",
                                                                     G_TYPE_UINT64, total, nullptr)));
}

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

// A new run: the track's stream state as at its start (the segmenter's is
// reset with it). No data flows meanwhile.
void reset_stream(Track& t) {
  gst_segment_init(&t.segment, GST_FORMAT_TIME);
  std::lock_guard lock(t.events_mutex);
  t.caps.reset();
  t.stream_start.reset();
  t.ghost_eos = false;
  t.logged_shift = 0;
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
  t->drops.attach(t->queue.get());
  g_signal_connect(t->queue.get(), "overrun", G_CALLBACK(on_overrun), t.get());
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
    t->id = impl->segmenter.add_track(video);
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
    impl->segmenter.remove_track(t->id);
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
  std::map<Segmenter::FileId, std::shared_ptr<File>> files;
  {
    std::lock_guard lock(impl->files_mutex);
    files.swap(impl->files);
    impl->segmenter.reset();
    impl->live_known = false;
    for (auto& t : impl->tracks) {
      reset_stream(*t);
      gst_pad_set_active(t->in.get(), FALSE);
    }
  }
  for (auto& [id, f] : files)
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
    impl->segmenter.reset();
    impl->segmenter.set_stopping(false);
    impl->live_known = false;
    for (auto& t : impl->tracks) {
      reset_stream(*t);
      gst_pad_set_active(t->in.get(), TRUE);
    }
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    // Before the pads are deactivated: a thread waiting for the other
    // tracks must return for its queue to stop.
    std::lock_guard lock(impl->files_mutex);
    impl->segmenter.set_stopping(true);
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
    case PROP_CONFINE_TO: {
      const char* v = g_value_get_string(value);
      s.confine_to = v ? v : "";
      s.confine_to_resolved = s.confine_to.empty() ? "" : gms::resolved_dir(s.confine_to);
      break;
    }
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
    case PROP_CONFINE_TO:
      g_value_set_string(value, s.confine_to.c_str());
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
                          "Delete segments written by this element that ended more than this "
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
  g_object_class_install_property(
      gobject_class, PROP_CONFINE_TO,
      g_param_spec_string("confine-to", "Confine to",
                          "A directory every segment must be written inside, symbolic links "
                          "followed (resolved when set): a file whose directory leads elsewhere "
                          "is not opened and recording stops with an error; empty = no check",
                          "", ready));

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
