#include "mounts/file_mount.h"

#include <gst/rtsp-server/rtsp-media-factory.h>

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "core/client_guard.h"
#include "core/flush_keeper.h"
#include "core/log.h"
#include "mounts/floating.h"
#include "mounts/bye_delay.h"
#include "mounts/file_path.h"
#include "mounts/key_snap.h"
#include "mounts/media_setup.h"
#include "mounts/preroll_deadline.h"
#include "mounts/range_bin.h"
#include "mounts/range_source.h"
#include "mounts/range_table.h"
#include "mounts/pinned_file.h"
#include "mounts/rtp_batch.h"
#include "record/range_plan.h"
#include "record/segment_listing.h"
#include "record/segment_media.h"
#include "record/segment_names.h"

// ---------------------------------------------------------------------------
// GmsFileFactory: the factory of one file version at one request path.
// ---------------------------------------------------------------------------

namespace gms::mounts {
namespace {

// How often a playing media checks that its file is still the one it opened.
constexpr gint64 kFileCheckInterval = G_USEC_PER_SEC;
// How long a file's media has to preroll (every track's first frame at its
// payloader) before its client gets 503: as long as an RTSP client thread
// waits for a probe (kProbeWait below), the other connections of that
// thread wait no longer for a broken file than for a slow probe.
constexpr std::chrono::milliseconds kPrerollBound{5000};

struct FileSettings {
  std::string mount_path;  // request path, for logs
  std::string file;        // real path
  FileIdentity id;
  std::shared_ptr<const MediaInfo> info;
  bool loop = false;
  bool shared = false;
  // Recorded segments played as one stream (range_source.h): a time range
  // (file is the first) or one segment file. Each part starts at its
  // part_starts on the range's timeline; npt 0 is range_offset there, and
  // the range lasts range_duration (ns); range_cut: EOS there.
  std::vector<std::string> parts;
  std::vector<guint64> part_starts;
  std::vector<char> part_after_gap;
  guint64 range_offset = 0, range_duration = 0;
  bool range_cut = true;
  std::string query;
};

// Whether the file a media plays is still there and unchanged. Checked from
// the streaming threads at most once a second (a stat(), next to the
// filesrc reads on those threads); once changed, every track ends.
struct FileWatch {
  std::string file;
  std::string mount_path;
  FileIdentity id;
  std::atomic<gint64> next_check{0};
  std::atomic<bool> gone{false};

  bool changed() {
    if (gone)
      return true;
    gint64 now = g_get_monotonic_time();
    gint64 due = next_check.load();
    if (now < due || !next_check.compare_exchange_strong(due, now + kFileCheckInterval))
      return false;
    auto cur = identify_file(file);
    if (cur && *cur == id)
      return false;
    if (!gone.exchange(true))
      GMS_LOG_WARN("file %s: %s while playing; ending its sessions", mount_path.c_str(),
                   cur ? "replaced or rewritten" : "deleted");
    return true;
  }
};

// Links parsebin's pads to the payloader chains made for them, by stream id
// (stable for a file version), else by media type; the data of other tracks
// is dropped so that the demuxer never stops on a not-linked pad.
struct TrackLinker {
  struct Slot {
    std::string stream_id;
    std::string media_type;
    Ref<GstPad> sink;
    bool used = false;
  };
  std::mutex lock;  // protects slots
  std::vector<Slot> slots;
  std::shared_ptr<FileWatch> watch;
  std::shared_ptr<KeySnap> snap = std::make_shared<KeySnap>();
  bool loop = false;
};

// Streaming thread: the demuxers that seek to the asked time rather than
// to a key frame before it get key-frame snapping.
void on_parse_element(GstBin*, GstBin*, GstElement* element, gpointer data) noexcept {
  GstElementFactory* factory = gst_element_get_factory(element);
  const char* name = factory ? GST_OBJECT_NAME(factory) : "";
  if (g_str_equal(name, "tsdemux") || g_str_equal(name, "mpegpsdemux"))
    static_cast<TrackLinker*>(data)->snap->enable();
}

GstPadProbeReturn on_track_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* watch = static_cast<FileWatch*>(data);
  // mpegvideoparse on an MPEG-1/2 elementary stream (.mpv) gives decode
  // times only: payloaders stamp RTP and the sinks pace by PTS, so without
  // one the whole file went out at once. With no B-frames PTS is DTS.
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer) && GST_BUFFER_DTS_IS_VALID(buffer)) {
    buffer = gst_buffer_make_writable(buffer);
    GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  }
  if (!watch->changed())
    return GST_PAD_PROBE_OK;
  // End this track: downstream the payloader and rtpbin finish the stream
  // (RTCP BYE); upstream gets EOS back and stops reading.
  gst_pad_push_event(pad, gst_event_new_eos());
  return GST_PAD_PROBE_DROP;
}

// A track that ends with no segment (a demuxer with no data for it after a
// seek) would leave gst-rtsp-server 1.22 without rates for a set-up stream,
// and its get_rates() asserts (CVE-2024-44331): give it one first
// (client_guard.cpp also waits for every segment after a seek).
GstPadProbeReturn on_track_event(GstPad* pad, GstPadProbeInfo* info, gpointer) noexcept {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  auto segment = Ref<GstEvent>::adopt(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
  if (!segment) {
    GstSegment s;
    gst_segment_init(&s, GST_FORMAT_TIME);
    gst_pad_push_event(pad, gst_event_new_segment(&s));
  }
  return GST_PAD_PROBE_OK;
}

// A looping file is a live channel: no end (clients such as rtspsrc stop at
// the end of the announced range) and no seeking.
GstPadProbeReturn on_loop_query(GstPad*, GstPadProbeInfo* info, gpointer) noexcept {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DURATION:
      gst_query_set_duration(query, GST_FORMAT_TIME, -1);
      return GST_PAD_PROBE_HANDLED;
    case GST_QUERY_SEEKING:
      gst_query_set_seeking(query, GST_FORMAT_TIME, FALSE, 0, -1);
      return GST_PAD_PROBE_HANDLED;
    case GST_QUERY_SEGMENT:  // gst-rtsp-server takes the range end from it
      gst_query_set_segment(query, 1.0, GST_FORMAT_TIME, 0, -1);
      return GST_PAD_PROBE_HANDLED;
    default:
      return GST_PAD_PROBE_OK;
  }
}

std::string media_type_of(GstPad* pad) {
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  if (!caps || gst_caps_get_size(caps.get()) == 0)
    return {};
  return gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
}

// parsebin's streaming thread.
void on_parsebin_pad(GstElement*, GstPad* pad, gpointer data) noexcept {
  auto* linker = static_cast<TrackLinker*>(data);
  GCharPtr sid(gst_pad_get_stream_id(pad));
  std::string type = media_type_of(pad);
  Ref<GstPad> target;
  std::string track_type;  // as probed: caps may come after pad-added
  {
    std::lock_guard<std::mutex> g(linker->lock);
    TrackLinker::Slot* slot = nullptr;
    for (auto& s : linker->slots)
      if (!s.used && sid && s.stream_id == sid.get()) {
        slot = &s;
        break;
      }
    for (auto& s : linker->slots)
      if (!slot && !s.used && s.media_type == type)
        slot = &s;
    if (slot) {
      slot->used = true;
      target = slot->sink;
      track_type = slot->media_type;
    }
  }
  if (!target) {
    // Dropped at the pad: a sink here would preroll and block the
    // demuxer's one thread, and an unlinked pad would stop it.
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo*, gpointer) noexcept { return GST_PAD_PROBE_DROP; }, nullptr,
        nullptr);
    return;
  }
  if (gst_pad_link(pad, target.get()) != GST_PAD_LINK_OK) {
    GMS_LOG_WARN("file %s: cannot link track %s (%s)", linker->watch->mount_path.c_str(),
                 sid ? sid.get() : "?", type.c_str());
    return;
  }
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_track_buffer, linker->watch.get(), nullptr);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_track_event, nullptr, nullptr);
  if (linker->loop) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, on_loop_query, nullptr, nullptr);
    return;
  }
  linker->snap->add_track(pad, g_str_has_prefix(track_type.c_str(), "video/"));
  gst_pad_add_probe(pad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                    GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    KeySnap::probe, linker->snap.get(), nullptr);
}

}  // namespace
}  // namespace gms::mounts

G_BEGIN_DECLS
#define GMS_TYPE_FILE_FACTORY (gms_file_factory_get_type())
G_DECLARE_FINAL_TYPE(GmsFileFactory, gms_file_factory, GMS, FILE_FACTORY, GstRTSPMediaFactory)
G_END_DECLS

struct _GmsFileFactory {
  GstRTSPMediaFactory parent;
  gms::mounts::FileSettings* settings;  // set once before the factory is mounted
  // A recording's time ranges: each media is built from the one its
  // request's query names (null for a file).
  gms::mounts::RangeTable<gms::mounts::FileSettings>* ranges;
};

G_DEFINE_FINAL_TYPE(GmsFileFactory, gms_file_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

namespace {

using namespace gms;
using namespace gms::mounts;

// A queue of `mq` in front of `chain`: its sink pad (null when it cannot
// be linked).
Ref<GstPad> track_queue(GstElement* mq, GstPad* chain) {
  if (!chain)
    return {};
  auto sink = Ref<GstPad>::adopt(gst_element_request_pad_simple(mq, "sink_%u"));
  GCharPtr sink_name(sink ? gst_pad_get_name(sink.get()) : nullptr);
  std::string src_name = sink_name ? "src_" + std::string(sink_name.get() + 5) : "";
  auto src = Ref<GstPad>::adopt(sink ? gst_element_get_static_pad(mq, src_name.c_str()) : nullptr);
  if (!src || gst_pad_link(src.get(), chain) != GST_PAD_LINK_OK)
    return {};
  return sink;
}

// RTSP client thread: DESCRIBE/SETUP of a new media for this file.
// filesrc ! parsebin, then one whitelisted payloader chain per servable
// track, named pay0..payN in the order of the probe.
GstElement* file_create_element(GstRTSPMediaFactory* factory, const GstRTSPUrl* url) noexcept {
  GmsFileFactory* self = GMS_FILE_FACTORY(factory);
  if (!self->settings)
    return nullptr;
  std::shared_ptr<const FileSettings> range;
  if (self->ranges) {
    // A request without the query (a SETUP whose URL dropped it): the last.
    range = url && url->query ? self->ranges->find(url->query) : self->ranges->newest();
    if (!range) {
      GMS_LOG_WARN("recordings %s: the range asked for was pushed out by newer ones; try again",
                   self->settings->mount_path.c_str());
      return nullptr;
    }
  }
  const FileSettings& s = range ? *range : *self->settings;
  try {
    // A range's bin releases its concats before its children stop.
    auto bin = Ref<GstElement>::adopt(s.parts.empty() ? gst_bin_new(nullptr) : range_bin_new());
    auto type_of = [](const GstCaps* caps) -> std::string {
      return gst_caps_get_size(caps) ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "";
    };
    // The sources first (the order the elements were always added in).
    Ref<GstElement> parse;
    std::vector<std::string> range_types;
    std::vector<Ref<GstPad>> range_sinks;
    if (s.parts.empty()) {
      auto src = Ref<GstElement>::adopt(gst_element_factory_make("filesrc", nullptr));
      // Named: on_file_media_configure finds it (and its KeySnap) by name.
      // An MP4 whose tracks need no parser gets its demuxer alone: parsebin
      // would typefind again (its task's thread stays parked for the life
      // of the media) and plug h264parse, which re-reads every frame and
      // holds several hundred KiB per viewer.
      parse = Ref<GstElement>::adopt(gst_element_factory_make(
          s.info->payloadable_from_demuxer() ? "qtdemux" : "parsebin", "parse"));
      if (!src || !parse)
        return nullptr;
      std::string why;
      if (!set_pinned_location(src.get(), s.file, why)) {
        GMS_LOG_WARN("path %s: %s: %s", s.mount_path.c_str(), s.file.c_str(), why.c_str());
        return nullptr;
      }
      gst_bin_add_many(GST_BIN(bin.get()), src.get(), parse.get(), nullptr);
      if (!gst_element_link(src.get(), parse.get()))
        return nullptr;
    }
    // One thread per track when there are several: a demuxer pushes every
    // track from one thread, and gst-rtsp-server prerolls by blocking each
    // payloader on its first packet. A multiqueue (not one queue per track)
    // also lets a track that no viewer set up run unlinked without stopping
    // the others with an error. A file with one track needs neither: the
    // demuxer's thread payloads and paces it, which saves every viewer a
    // thread, a wake-up per frame and the queue's seconds of frames.
    const bool direct = s.parts.empty() && s.info->servable_tracks() == 1;
    Ref<GstElement> mq;
    if (!direct) {
      mq = Ref<GstElement>::adopt(gst_element_factory_make("multiqueue", nullptr));
      if (!mq)
        return nullptr;
      g_object_set(mq.get(), "max-size-buffers", 0u, "max-size-time", guint64(2 * GST_SECOND),
                   nullptr);
      gst_bin_add(GST_BIN(bin.get()), mq.get());
    }
    std::vector<TrackLinker::Slot> slots;
    unsigned index = 0;
    for (const auto& t : s.info->tracks) {
      if (!t.plan)
        continue;
      std::string error;
      Ref<GstPad> chain = add_payload_chain(GST_BIN(bin.get()), *t.plan, index, &error);
      Ref<GstPad> sink = direct ? chain : track_queue(mq.get(), chain.get());
      if (!chain || !sink) {
        GMS_LOG_WARN("file %s: cannot build track %u: %s", s.mount_path.c_str(), index,
                     error.empty() ? "multiqueue" : error.c_str());
        return nullptr;
      }
      std::string pay_name = "pay" + std::to_string(index);
      if (auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(bin.get()), pay_name.c_str()))) {
        batch_rtp(pay.get());  // first: the end of stream is held after the last batch
        delay_end_of_stream(pay.get());
      }
      if (!s.parts.empty()) {
        range_types.push_back(type_of(t.caps.get()));
        range_sinks.push_back(sink);
      }
      slots.push_back({t.stream_id, type_of(t.caps.get()), std::move(sink), false});
      ++index;
    }
    if (!s.parts.empty()) {
      RangeSpec spec{s.mount_path,     s.parts,          s.part_starts, s.part_after_gap,
                     s.range_offset,   s.range_duration, s.range_cut};
      if (!add_range_source(GST_BIN(bin.get()), spec, range_types, range_sinks))
        return nullptr;
      return floating(GST_ELEMENT(bin.release()));
    }
    auto* linker = new TrackLinker();
    // Owned by parsebin: freed with it, after its last pad-added.
    g_object_set_data_full(G_OBJECT(parse.get()), "gms-track-linker", linker,
                           [](gpointer p) { delete static_cast<TrackLinker*>(p); });
    linker->watch = std::make_shared<FileWatch>();
    linker->watch->file = s.file;
    linker->watch->mount_path = s.mount_path;
    linker->watch->id = s.id;
    linker->loop = s.loop;
    linker->slots = std::move(slots);
    g_signal_connect(parse.get(), "pad-added", G_CALLBACK(on_parsebin_pad), linker);
    if (GST_IS_BIN(parse.get()))
      g_signal_connect(parse.get(), "deep-element-added", G_CALLBACK(on_parse_element), linker);
    return floating(GST_ELEMENT(bin.release()));
  } catch (...) {
    return nullptr;
  }
}

// Loop: the first segment seek once prerolled, then one more at the end of
// each pass. Non-flushing segment seeks keep the running time (and so RTP
// timestamps) going on. The seek goes up from pay0 to the demuxer: until
// PLAY adds the transports the pipeline has no sink to take it.
void loop_seek(GstElement* pipeline, bool flushing) {
  auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "pay0"));
  auto flags = GstSeekFlags(GST_SEEK_FLAG_SEGMENT | (flushing ? GST_SEEK_FLAG_FLUSH : 0));
  if (!pay || !gst_element_send_event(pay.get(), gst_event_new_seek(1.0, GST_FORMAT_TIME, flags,
                                                                    GST_SEEK_TYPE_SET, 0,
                                                                    GST_SEEK_TYPE_NONE,
                                                                    GST_CLOCK_TIME_NONE)))
    GMS_LOG_WARN("looping file: the seek to the start was refused; the channel ends here");
}

// Streaming thread: never seek from here (a flushing seek waits for this
// very thread to let go of its stream lock).
void on_segment_done(GstBus*, GstMessage*, gpointer pipeline) noexcept {
  gst_element_call_async(
      GST_ELEMENT(pipeline), [](GstElement* p, gpointer) noexcept { loop_seek(p, false); },
      nullptr, nullptr);
}

void on_media_prepared(GstRTSPMedia* media, gpointer) noexcept {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  if (pipeline && GST_IS_ELEMENT(pipeline.get()))
    loop_seek(GST_ELEMENT(pipeline.get()), true);
}

// After a pipeline error (a file corrupt past its start) nothing flows any
// more: end every track so that viewers get RTCP BYE instead of silence
// until their session times out.
void end_all_tracks(GstElement* pipeline, gpointer) noexcept {
  for (unsigned i = 0;; ++i) {
    std::string name = "pay" + std::to_string(i);
    auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), name.c_str()));
    if (!pay)
      break;
    auto sink = Ref<GstPad>::adopt(gst_element_get_static_pad(pay.get(), "sink"));
    if (sink && !GST_PAD_IS_EOS(sink.get()))
      gst_pad_send_event(sink.get(), gst_event_new_eos());
  }
}

// The thread that raised the error: never touch the pipeline from here.
void on_file_error(GstBus*, GstMessage*, gpointer pipeline) noexcept {
  gst_element_call_async(GST_ELEMENT(pipeline), end_all_tracks, nullptr, nullptr);
}

// RTSP client thread, for every new media of this file.
void on_file_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer) noexcept {
  const FileSettings& s = *GMS_FILE_FACTORY(factory)->settings;
  // A viewer seeks and pauses its own pipeline; a shared one is never
  // seeked by a viewer (it would move everybody).
  // Recordings seek in their own way (range_source.h).
  set_media_seekable(media, !s.shared || !s.parts.empty());
  set_media_file(media);
  fail_preroll_after(media, kPrerollBound, s.mount_path);
  // Seeks flush the TCP appsinks; without this, one can wedge the media.
  keep_tcp_samples_across_flushes(media);
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto parse = Ref<GstElement>::adopt(
      element ? gst_bin_get_by_name(GST_BIN(element.get()), "parse") : nullptr);
  if (auto* linker = parse ? static_cast<TrackLinker*>(
                                 g_object_get_data(G_OBJECT(parse.get()), "gms-track-linker"))
                           : nullptr)
    set_media_seek_planner(media, [snap = linker->snap](GstClockTime start) {
      return snap->arm(start);
    });
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  if (!pipeline || !GST_IS_ELEMENT(pipeline.get()))
    return;
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(GST_ELEMENT(pipeline.get())));
  gst_bus_enable_sync_message_emission(bus.get());
  // The pipeline outlives its bus's handlers (the bus is the pipeline's).
  g_signal_connect(bus.get(), "sync-message::error", G_CALLBACK(on_file_error), pipeline.get());
  if (!s.loop)
    return;
  g_signal_connect(bus.get(), "sync-message::segment-done", G_CALLBACK(on_segment_done),
                   pipeline.get());
  g_signal_connect(media, "prepared", G_CALLBACK(on_media_prepared), nullptr);
}

// A root's marker (no settings) builds nothing: requests under it are
// answered by FileRoots::resolve() before DESCRIBE. The library looks for
// the media of a SETUP before its pre-setup hook, so a SETUP of a file no
// DESCRIBE has mounted yet ends here: 503, without the stock factory's
// criticals about a missing launch line.
GstRTSPMedia* file_construct(GstRTSPMediaFactory* factory, const GstRTSPUrl* url) noexcept {
  if (!GMS_FILE_FACTORY(factory)->settings)
    return nullptr;
  return GST_RTSP_MEDIA_FACTORY_CLASS(gms_file_factory_parent_class)->construct(factory, url);
}

void file_factory_finalize(GObject* object) {
  delete GMS_FILE_FACTORY(object)->settings;
  delete GMS_FILE_FACTORY(object)->ranges;
  G_OBJECT_CLASS(gms_file_factory_parent_class)->finalize(object);
}

}  // namespace

static void gms_file_factory_class_init(GmsFileFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = file_factory_finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->create_element = file_create_element;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->construct = file_construct;
  // Key = request path + generation: one file per factory, and a file that
  // changes gets a new factory, so different files never share a media.
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->gen_key = gms::mounts::shared_media_key;
}

static void gms_file_factory_init(GmsFileFactory* self) {
  self->settings = nullptr;
  self->ranges = nullptr;
}

// ---------------------------------------------------------------------------
// FileRoots
// ---------------------------------------------------------------------------

namespace gms::mounts {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout{10000};
// How long an RTSP client thread waits for a probe (it runs on a thread of
// its own) before the client is told to come back (503, Retry-After): the
// other connections served by that thread wait at most this long. Most
// clients (rtspsrc, ffmpeg) do not come back: long enough for a normal
// probe on a machine under heavy load (over 2 s seen), half the probe's
// own limit.
constexpr std::chrono::milliseconds kProbeWait{5000};
// A time range reads its segments at once (a parser each): a bound.
constexpr size_t kMaxRangeSegments = 200;
// Ranges of one recording kept mounted at once: enough for viewers asking
// for different ones at the same moment (an NVR's timeline, a few people).
constexpr size_t kRangesPerPath = 32;
// A gap in a recording plays as a pause of the stream, of at most this:
// a viewer of a range over a night off the air should not wait the night.
constexpr gint64 kMaxPlayedGapUs = 10 * G_USEC_PER_SEC;

Ref<GstRTSPMediaFactory> make_file_factory(const PathConfig& root, const std::string& mount_path,
                                           const std::string& file, const FileIdentity& id,
                                           std::shared_ptr<const MediaInfo> info,
                                           GstRTSPAddressPool* pool) {
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_FILE_FACTORY, nullptr)));
  auto* s = new FileSettings();
  s->mount_path = mount_path;
  s->file = file;
  s->id = id;
  s->info = std::move(info);
  s->loop = root.loop;
  s->shared = root.shared;
  GMS_FILE_FACTORY(factory.get())->settings = s;
  PathConfig per_file = root;
  per_file.name = mount_path;
  apply_media_settings(factory.get(), per_file, pool);
  set_viewer_limit(factory.get(), root.name, root.max_viewers);  // every file counts as the root
  g_signal_connect(factory.get(), "media-configure", G_CALLBACK(on_file_media_configure), nullptr);
  return factory;
}

// Whether an MP4 ends with its fragment index (an `mfro` box, the last 16
// bytes of a fragmented MP4 that was closed).
bool ends_with_mfra(const std::string& path) {
  UniquePtr<FILE, fclose> f(fopen(path.c_str(), "rb"));
  char tail[16];
  return f && fseeko(f.get(), -16, SEEK_END) == 0 && fread(tail, 1, 16, f.get()) == 16 &&
         memcmp(tail + 4, "mfro", 4) == 0;
}

// The length of a recorded segment, for the SDP. qtdemux's duration is the
// end of the index (mfra), in the recording's running time: right for the
// first segment of a recording only, 2 s long for the second of 2 s ones.
// The span from its name to the next segment's name (or to its last write,
// for the newest one) is right within a recording, and long for its last
// segment (finalised seconds later). A closed segment: the shorter of the
// two. One cut by kill -9 has no index (qtdemux sees its first fragment):
// from its name to its last write, which is when its last fragment landed.
guint64 recorded_length(const std::string& path, gint64 start_us, GstClockTime probed) {
  GStatBuf st;
  gint64 end_us = g_stat(path.c_str(), &st) == 0
                      ? gint64(st.st_mtim.tv_sec) * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000
                      : start_us;
  const bool closed = ends_with_mfra(path);
  if (closed) {
    GCharPtr dir(g_path_get_dirname(path.c_str()));
    if (auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.get(), 0, nullptr)))
      while (const char* entry = g_dir_read_name(d.get()))
        if (auto s = record::segment_start_from_name(entry); s && *s > start_us && *s < end_us)
          end_us = *s;
  }
  const guint64 span = guint64(std::max<gint64>(0, end_us - start_us)) * 1000;
  if (!GST_CLOCK_TIME_IS_VALID(probed) || probed == 0)
    return span;
  return closed ? std::min(probed, span) : std::max(probed, span);
}

// Whether `factory` has the range of `query`, its first segment unchanged
// since (a recorder that wrote a segment again under the same name).
bool range_unchanged(GstRTSPMediaFactory* factory, const std::string& query) {
  auto* ranges = GMS_FILE_FACTORY(factory)->ranges;
  auto known = ranges ? ranges->find(query) : nullptr;
  if (!known)
    return false;
  auto now = identify_file(known->file);
  return now && *now == known->id;
}

const char* status_text(int status) {
  return gst_rtsp_status_as_text(GstRTSPStatusCode(status));
}

}  // namespace

FileRoots::FileRoots(GstRTSPMountPoints* mounts, size_t max_mounted_files)
    : mounts_(Ref<GstRTSPMountPoints>::borrow(mounts)), max_files_(max_mounted_files) {}

FileRoots::~FileRoots() {
  std::lock_guard<std::mutex> g(lock_);
  for (auto& [name, _] : files_)
    gst_rtsp_mount_points_remove_factory(mounts_.get(), name.c_str());
  for (auto& [name, _] : roots_)
    gst_rtsp_mount_points_remove_factory(mounts_.get(), name.c_str());
}

void FileRoots::add(const PathConfig& path, GstRTSPAddressPool* pool) {
  auto root = std::make_shared<Root>();
  root->config = path;
  UniquePtr<char, free> real(realpath(path.root.c_str(), nullptr));
  root->real = real ? real.get() : path.root;
  if (root->real == "/")
    root->real.clear();
  root->pool = Ref<GstRTSPAddressPool>::borrow(pool);
  // A marker: requests under the prefix match it; resolve() answers them
  // before the library would try to build it.
  root->marker = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_FILE_FACTORY, nullptr)));
  set_factory_unavailable(root->marker.get(), "a directory of media files, not a stream");
  {
    std::lock_guard<std::mutex> g(lock_);
    roots_[path.name] = root;
  }
  gst_rtsp_mount_points_add_factory(mounts_.get(), path.name.c_str(),
                                    Ref<GstRTSPMediaFactory>(root->marker).release());
  GMS_LOG_INFO("path %s: serving the media files under %s%s", path.name.c_str(),
               path.root.c_str(), path.loop ? " in a loop" : "");
}

std::vector<std::string> FileRoots::remove(const std::string& name) {
  std::vector<std::string> gone;
  std::lock_guard<std::mutex> g(lock_);
  if (roots_.erase(name) == 0)
    return gone;
  gst_rtsp_mount_points_remove_factory(mounts_.get(), name.c_str());
  for (const auto& [mount, m] : files_)
    if (m.root == name)
      gone.push_back(mount);
  for (const auto& mount : gone)
    unmount_locked(mount);
  return gone;
}

void FileRoots::unmount_locked(const std::string& mount_path) {
  if (forget_locked(mount_path))
    gst_rtsp_mount_points_remove_factory(mounts_.get(), mount_path.c_str());
}

bool FileRoots::forget_locked(const std::string& mount_path) {
  auto it = files_.find(mount_path);
  if (it == files_.end())
    return false;
  lru_.erase(it->second.lru);
  files_.erase(it);
  return true;
}

size_t FileRoots::mounted_files() const {
  std::lock_guard<std::mutex> g(lock_);
  return files_.size();
}

GstRTSPStatusCode FileRoots::resolve(const std::string& abspath, const std::string& query,
                                     bool setup) {
  gint matched = 0;
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      gst_rtsp_mount_points_match(mounts_.get(), abspath.c_str(), &matched));
  if (!factory)
    return GST_RTSP_STS_OK;  // the library answers 404
  std::string prefix = abspath.substr(0, size_t(matched));
  std::string stale;  // a mount whose file changed, while it is looked at again
  std::shared_ptr<Root> root;
  const bool range = is_time_range_query(query);
  {
    std::lock_guard<std::mutex> g(lock_);
    auto it = files_.find(prefix);
    const bool mounted = it != files_.end() && it->second.factory == factory;
    if (mounted && range && range_unchanged(factory.get(), query)) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return GST_RTSP_STS_OK;
    }
    if (mounted && (range || (!setup && !it->second.query.empty()))) {
      // Another time range of a directory mounted for one: mount it anew;
      // the directory without a range: not a stream (mount_file says why).
      auto r = roots_.find(it->second.root);
      if (r == roots_.end())
        return GST_RTSP_STS_NOT_FOUND;
      root = r->second;
      prefix = it->second.root;
    } else if (mounted) {
      auto now = identify_file(it->second.file);
      if (now && *now == it->second.id) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return GST_RTSP_STS_OK;
      }
      // Replaced or deleted since it was mounted: look again. It stays
      // mounted meanwhile: a mount that succeeds replaces it in one step
      // (a request between a removal and an add would match the root's
      // marker and be answered 503); one that fails removes it below.
      std::string root_name = it->second.root;
      auto r = roots_.find(root_name);
      if (r == roots_.end()) {
        unmount_locked(prefix);
        return GST_RTSP_STS_NOT_FOUND;
      }
      stale = prefix;
      root = r->second;
      prefix = root_name;
    } else {
      for (const auto& [name, r] : roots_)
        if (r->marker == factory)
          root = r;
    }
  }
  if (!root)
    return GST_RTSP_STS_OK;  // a launch path: not ours
  std::string relative;
  if (abspath.size() > prefix.size())
    relative = abspath.substr(prefix == "/" ? 1 : prefix.size() + 1);
  std::string mount_path = abspath;
  if (range) {
    // A SETUP that kept the query: the last segment is the stream control.
    if (setup) {
      auto slash = mount_path.rfind('/');
      if (slash != std::string::npos && mount_path.compare(slash + 1, 7, "stream=") == 0) {
        mount_path.resize(slash);
        auto rslash = relative.rfind('/');
        relative.resize(rslash == std::string::npos ? 0 : rslash);
      }
      std::lock_guard<std::mutex> g(lock_);
      if (auto it = files_.find(mount_path);
          it != files_.end() && range_unchanged(it->second.factory.get(), query))
        return GST_RTSP_STS_OK;
    }
  }
  GstRTSPStatusCode status = range ? mount_range(root, mount_path, relative, query)
                                   : mount_file(root, mount_path, relative, setup);
  if (status != GST_RTSP_STS_OK && !stale.empty()) {
    std::lock_guard<std::mutex> g(lock_);
    if (auto it = files_.find(stale); it != files_.end() && it->second.factory == factory)
      unmount_locked(stale);
  }
  return status;
}

GstRTSPStatusCode FileRoots::mount_range(const std::shared_ptr<Root>& root,
                                         const std::string& mount_path,
                                         const std::string& relative, const std::string& query) {
  const std::string& name = root->config.name;
  TimeRange range;
  std::string why;
  if (!parse_time_range(query, range, why)) {
    GMS_LOG_WARN("path %s: %s?%s: 400 Bad Request (%s)", name.c_str(), mount_path.c_str(),
                 query.c_str(), why.c_str());
    return GST_RTSP_STS_BAD_REQUEST;
  }
  ResolvedFile dir = resolve_in_root(root->real, relative, true);
  if (dir.status == 200 && !g_file_test(dir.path.c_str(), G_FILE_TEST_IS_DIR)) {
    dir.status = 400;
    dir.reason = "a time range is asked of a directory of recordings, not of a file";
  }
  if (dir.status != 200) {
    GMS_LOG_WARN("path %s: %s?%s: %d %s (%s)", name.c_str(), mount_path.c_str(), query.c_str(),
                 dir.status, status_text(dir.status), dir.reason.c_str());
    return GstRTSPStatusCode(dir.status);
  }
  // The segments by their names; each ends where the next begins, the
  // last at its last write.
  std::vector<record::RecordedSegment> segments;
  for (const auto& f : record::list_segments(dir.path)) {
    // Only what a request for the file itself would get: a name that is a
    // link out of the root is not a segment.
    ResolvedFile part = confine_to_root(root->real, f.path);
    if (part.status != 200) {
      GMS_LOG_WARN("path %s: %s?%s: %s left out (%s)", name.c_str(), mount_path.c_str(),
                   query.c_str(), f.name.c_str(), part.reason.c_str());
      continue;
    }
    // The newest segment between its header and its first media (or one
    // cut there by a kill -9) would fail the whole range.
    if (!record::segment_holds_media(part.path, f.bytes)) {
      GMS_LOG_INFO("path %s: %s?%s: %s left out (no media in it yet)", name.c_str(),
                   mount_path.c_str(), query.c_str(), f.name.c_str());
      continue;
    }
    // The last segment of a recording is written at once when it stops,
    // and its last write can come before the time in its name: still a
    // segment (its media's length is not known here).
    segments.push_back({part.path, f.start_us, std::max(f.mtime_us, f.start_us + 1)});
  }
  for (size_t i = 0; i + 1 < segments.size(); ++i)
    segments[i].end_us = std::min(segments[i].end_us, segments[i + 1].start_us);
  record::RangePlan plan =
      record::plan_range(segments, range.start_us, range.duration_us, kMaxPlayedGapUs);
  if (plan.files.empty()) {
    GMS_LOG_WARN("path %s: %s?%s: 404 Not Found (nothing recorded in that range; %zu segments "
                 "in the directory)",
                 name.c_str(), mount_path.c_str(), query.c_str(), segments.size());
    return GST_RTSP_STS_NOT_FOUND;
  }
  if (plan.files.size() > kMaxRangeSegments) {
    GMS_LOG_WARN("path %s: %s?%s: 400 Bad Request (the range spans %zu segments; at most %zu "
                 "play as one stream)",
                 name.c_str(), mount_path.c_str(), query.c_str(), plan.files.size(),
                 kMaxRangeSegments);
    return GST_RTSP_STS_BAD_REQUEST;
  }
  auto id = identify_file(plan.files.front());
  if (!id)
    return GST_RTSP_STS_NOT_FOUND;
  auto info = probes_.get(plan.files.front(), *id, kProbeTimeout, kProbeWait, nullptr);
  if (!info) {
    GMS_LOG_INFO("path %s: %s?%s: 503, %s is still being probed", name.c_str(),
                 mount_path.c_str(), query.c_str(), plan.files.front().c_str());
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  if (!info->ok || info->servable_tracks() == 0) {
    GMS_LOG_WARN("path %s: %s?%s: 415 Unsupported Media Type (%s)", name.c_str(),
                 mount_path.c_str(), query.c_str(), !info->ok ? info->reason.c_str() : "no track");
    return GST_RTSP_STS_UNSUPPORTED_MEDIA_TYPE;
  }
  GMS_LOG_INFO("path %s: %s?%s: %zu segment%s from %s, %.3f s in, %.3f s", name.c_str(),
               mount_path.c_str(), query.c_str(), plan.files.size(),
               plan.files.size() == 1 ? "" : "s", plan.files.front().c_str(),
               double(plan.offset_ns) / GST_SECOND, double(plan.duration_ns) / GST_SECOND);
  PathConfig per_range = root->config;
  per_range.shared = false;  // each viewer its own range
  per_range.loop = false;
  auto fs = std::make_shared<FileSettings>();
  fs->mount_path = mount_path;
  fs->file = plan.files.front();
  fs->id = *id;
  fs->info = info;
  fs->parts = plan.files;
  fs->part_starts = plan.starts_ns;
  fs->part_after_gap = plan.after_gap;
  // Ending with the recording: at the end of its last file, not at the
  // duration the names give, which can be some tenths of a second short.
  fs->range_cut = !plan.to_recording_end;
  fs->range_offset = plan.offset_ns;
  fs->range_duration = plan.duration_ns;
  fs->query = query;
  std::lock_guard<std::mutex> g(lock_);
  if (!roots_.count(name))
    return GST_RTSP_STS_NOT_FOUND;  // removed by a reload meanwhile
  // The path's ranges so far stay: a viewer whose media is being made
  // from one of them still finds it.
  if (auto it = files_.find(mount_path); it != files_.end() && it->second.root == name) {
    if (auto* ranges = GMS_FILE_FACTORY(it->second.factory.get())->ranges) {
      ranges->put(query, fs);
      it->second.query = query;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return GST_RTSP_STS_OK;
    }
  }
  // A file mounted here goes when the range replaces it, in one step.
  forget_locked(mount_path);
  auto factory = make_file_factory(per_range, mount_path, plan.files.front(), *id, info,
                                   root->pool.get());
  *GMS_FILE_FACTORY(factory.get())->settings = *fs;
  GMS_FILE_FACTORY(factory.get())->ranges = new RangeTable<FileSettings>(kRangesPerPath);
  GMS_FILE_FACTORY(factory.get())->ranges->put(query, fs);
  lru_.push_front(mount_path);
  Mounted m{name, plan.files.front(), *id, factory, lru_.begin(), query};
  files_.emplace(mount_path, std::move(m));
  gst_rtsp_mount_points_add_factory(mounts_.get(), mount_path.c_str(), factory.release());
  while (files_.size() > max_files_)
    unmount_locked(lru_.back());
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode FileRoots::mount_file(const std::shared_ptr<Root>& root,
                                        const std::string& mount_path, const std::string& relative,
                                        bool setup) {
  const std::string& name = root->config.name;
  ResolvedFile file = resolve_in_root(root->real, relative);
  std::string mount = mount_path;
  if (file.status == 404 && setup) {
    // SETUP without a DESCRIBE on this connection: the last segment is
    // the stream control.
    auto slash = relative.rfind('/');
    auto mslash = mount_path.rfind('/');
    if (slash != std::string::npos && mslash != std::string::npos) {
      ResolvedFile parent = resolve_in_root(root->real, relative.substr(0, slash));
      if (parent.status == 200) {
        file = parent;
        mount = mount_path.substr(0, mslash);
      }
    }
  }
  if (file.status != 200) {
    GMS_LOG_WARN("path %s: %s %s: %d %s (%s)", name.c_str(), setup ? "SETUP" : "DESCRIBE",
                 mount_path.c_str(), file.status, status_text(file.status), file.reason.c_str());
    return GstRTSPStatusCode(file.status);
  }
  auto id = identify_file(file.path);
  if (!id)
    return GST_RTSP_STS_NOT_FOUND;
  bool cached = false;
  auto info = probes_.get(file.path, *id, kProbeTimeout, kProbeWait, &cached);
  if (!info) {
    GMS_LOG_INFO("file %s: 503, still being probed (or too many files are)", mount.c_str());
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  if (!info->ok || info->servable_tracks() == 0) {
    std::string why = !info->ok ? info->reason : "no track can be streamed (" + info->summary() + ")";
    GMS_LOG_WARN("file %s: 415 Unsupported Media Type (%s)", mount.c_str(), why.c_str());
    return GST_RTSP_STS_UNSUPPORTED_MEDIA_TYPE;
  }
  if (!cached) {
    GMS_LOG_INFO("file %s: %s (probed in %.1f ms)", mount.c_str(), info->summary().c_str(),
                 double(info->probe_time.count()) / 1000.0);
    unsigned i = 0;
    for (const auto& t : info->tracks) {
      if (!t.plan) {
        std::string why;
        plan_payload(t.caps.get(), &why);
        GMS_LOG_WARN("file %s: track %u (%s) left out of the SDP: %s", mount.c_str(), i,
                     t.description.c_str(), why.c_str());
      }
      ++i;
    }
  }
  std::lock_guard<std::mutex> g(lock_);
  if (!roots_.count(name))
    return GST_RTSP_STS_NOT_FOUND;  // removed by a reload meanwhile
  if (auto it = files_.find(mount); it != files_.end()) {
    if (it->second.id == *id)
      return GST_RTSP_STS_OK;  // another client mounted it meanwhile
    forget_locked(mount);  // replaced in one step below
  }
  auto factory = make_file_factory(root->config, mount, file.path, *id, info, root->pool.get());
  // A segment the server recorded plays as a range of one file: seeking in
  // it is ours (range_source.h), not qtdemux's, whose index is wrong or
  // missing in such files.
  GCharPtr base(g_path_get_basename(file.path.c_str()));
  auto rec_start = root->config.origin == "record-dir"
                       ? record::segment_start_from_name(base.get())
                       : std::nullopt;
  if (rec_start && !root->config.loop) {
    FileSettings& fs = *GMS_FILE_FACTORY(factory.get())->settings;
    fs.parts = {file.path};
    fs.part_starts = {0};
    fs.part_after_gap = {0};
    fs.range_cut = false;  // to the end of the file
    fs.range_duration = recorded_length(file.path, *rec_start, info->duration);
  }
  lru_.push_front(mount);
  files_.emplace(mount, Mounted{name, file.path, *id, factory, lru_.begin(), {}});
  gst_rtsp_mount_points_add_factory(mounts_.get(), mount.c_str(), factory.release());
  while (files_.size() > max_files_)
    unmount_locked(lru_.back());
  return GST_RTSP_STS_OK;
}

}  // namespace gms::mounts
