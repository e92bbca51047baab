#include "mounts/media_probe.h"

#include <gst/pbutils/pbutils.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include "mounts/pinned_file.h"

namespace gms::mounts {
namespace {

// Shared between the probing thread and parsebin's streaming thread.
struct ProbeState {
  std::mutex lock;  // protects everything below but pipeline
  std::vector<TrackInfo> tracks;
  bool done = false;
  // The demuxer inside parsebin, when there is one: its pads and whether it
  // said it has no more (then every track it has is known).
  bool has_demuxer = false;
  std::string demuxer;  // its factory
  unsigned demuxer_pads = 0;
  bool demuxer_complete = false;
  GstElement* pipeline = nullptr;  // borrowed: outlives the streaming threads
};

void on_demuxer_pad(GstElement*, GstPad*, gpointer data) noexcept {
  auto* st = static_cast<ProbeState*>(data);
  std::lock_guard<std::mutex> g(st->lock);
  st->demuxer_pads++;
}

void on_demuxer_no_more_pads(GstElement*, gpointer data) noexcept {
  auto* st = static_cast<ProbeState*>(data);
  std::lock_guard<std::mutex> g(st->lock);
  st->demuxer_complete = true;
}

// parsebin plugs its elements from a streaming thread; the demuxer's own
// signals tell when all its tracks are there, sooner than waiting.
void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) noexcept {
  GstElementFactory* f = gst_element_get_factory(element);
  const char* klass = f ? gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS) : nullptr;
  if (!klass || !strstr(klass, "Demux"))
    return;
  auto* st = static_cast<ProbeState*>(data);
  {
    std::lock_guard<std::mutex> g(st->lock);
    if (st->has_demuxer)
      return;  // the outer one is what counts
    st->has_demuxer = true;
    st->demuxer = GST_OBJECT_NAME(f);
  }
  g_signal_connect(element, "pad-added", G_CALLBACK(on_demuxer_pad), data);
  g_signal_connect(element, "no-more-pads", G_CALLBACK(on_demuxer_no_more_pads), data);
}

bool fixed(const Ref<GstCaps>& caps) { return caps && gst_caps_is_fixed(caps.get()); }

struct CapsWatch {
  ProbeState* st;
  size_t index;  // in st->tracks
};

// Streaming thread: a track's caps, when parsebin exposed its pad before
// they were known (tsdemux's ADTS audio: only "audio/mpeg" then, which no
// payloader takes).
GstPadProbeReturn on_track_caps(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  auto* w = static_cast<CapsWatch*>(data);
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  std::lock_guard<std::mutex> g(w->st->lock);
  w->st->tracks[w->index].caps = Ref<GstCaps>::borrow(caps);
  return GST_PAD_PROBE_REMOVE;
}

// Streaming thread: a parsed track appeared. A fakesink takes its data so
// the demuxer never stops on a not-linked pad; it keeps time (sync) so that
// the probe reads on at play speed, not the whole file, while it waits for
// tracks that start later.
void on_pad_added(GstElement*, GstPad* pad, gpointer data) noexcept {
  auto* st = static_cast<ProbeState*>(data);
  TrackInfo t;
  t.caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  const bool caps_later = !fixed(t.caps);
  if (!t.caps)
    t.caps = Ref<GstCaps>::adopt(gst_pad_query_caps(pad, nullptr));
  GCharPtr sid(gst_pad_get_stream_id(pad));
  t.stream_id = sid ? sid.get() : "";
  {
    std::lock_guard<std::mutex> g(st->lock);
    st->tracks.push_back(std::move(t));
    if (caps_later)
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_track_caps,
                        new CapsWatch{st, st->tracks.size() - 1},
                        [](gpointer p) { delete static_cast<CapsWatch*>(p); });
  }
  auto sink = Ref<GstElement>::adopt(gst_element_factory_make("fakesink", nullptr));
  if (sink) {
    g_object_set(sink.get(), "sync", TRUE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(st->pipeline), sink.get());
    gst_element_sync_state_with_parent(sink.get());
    auto sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink.get(), "sink"));
    gst_pad_link(pad, sinkpad.get());
  }
}

// Whether every track found so far has its final caps (lock held).
bool all_caps_known(const ProbeState& st) {
  for (const auto& t : st.tracks)
    if (!fixed(t.caps))
      return false;
  return true;
}

void on_no_more_pads(GstElement*, gpointer data) noexcept {
  auto* st = static_cast<ProbeState*>(data);
  std::lock_guard<std::mutex> g(st->lock);
  st->done = true;
}

std::string describe(const GstCaps* caps) {
  if (!caps || gst_caps_get_size(caps) == 0)
    return "unknown";
  if (!gst_caps_is_fixed(caps))
    return gst_structure_get_name(gst_caps_get_structure(caps, 0));
  GCharPtr d(gst_pb_utils_get_codec_description(caps));
  if (d)
    return d.get();
  return gst_caps_get_size(caps) ? gst_structure_get_name(gst_caps_get_structure(caps, 0))
                                 : "unknown";
}

}  // namespace

std::optional<FileIdentity> identify_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return {};
  FileIdentity id;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

size_t MediaInfo::servable_tracks() const {
  size_t n = 0;
  for (const auto& t : tracks)
    n += t.plan ? 1 : 0;
  return n;
}

// What qtdemux gives these is what their payloaders take (access units
// with the parameter sets in codec_data); the parser parsebin plugs after
// it only re-reads every frame.
bool MediaInfo::payloadable_from_demuxer() const {
  if (demuxer != "qtdemux" || servable_tracks() == 0)
    return false;
  for (const auto& t : tracks) {
    if (!t.plan)
      continue;
    if (!t.plan->before.empty() || !t.caps || gst_caps_get_size(t.caps.get()) == 0)
      return false;
    const GstStructure* c = gst_caps_get_structure(t.caps.get(), 0);
    const char* format = gst_structure_get_string(c, "stream-format");
    const char* align = gst_structure_get_string(c, "alignment");
    const std::string f = format ? format : "";
    int version = 0;
    if (gst_structure_has_name(c, "video/x-h264") && (f == "avc" || f == "avc3") && align &&
        g_str_equal(align, "au"))
      continue;
    if (gst_structure_has_name(c, "video/x-h265") && (f == "hvc1" || f == "hev1") && align &&
        g_str_equal(align, "au"))
      continue;
    if (gst_structure_has_name(c, "audio/mpeg") && gst_structure_get_int(c, "mpegversion", &version) &&
        version == 4 && f == "raw")
      continue;
    return false;
  }
  return true;
}

std::string MediaInfo::summary() const {
  std::string s;
  for (const auto& t : tracks) {
    if (!s.empty())
      s += " + ";
    s += t.plan ? t.plan->codec : "(" + t.description + ", not served)";
  }
  if (duration != GST_CLOCK_TIME_NONE) {
    char buf[32];
    snprintf(buf, sizeof buf, ", %.1f s", double(duration) / GST_SECOND);
    s += buf;
  }
  return s;
}

MediaInfo probe_media(const std::string& path, std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  MediaInfo info;
  // Declared before the pipeline so that it outlives it: the demuxer's
  // signal handlers point at it until the pipeline is gone.
  ProbeState st;
  auto pipeline = Ref<GstElement>::adopt(gst_pipeline_new("gms-probe"));
  auto src = Ref<GstElement>::adopt(gst_element_factory_make("filesrc", nullptr));
  auto parse = Ref<GstElement>::adopt(gst_element_factory_make("parsebin", nullptr));
  if (!src || !parse) {
    info.reason = "filesrc or parsebin is not installed";
    return info;
  }
  if (!set_pinned_location(src.get(), path, info.reason))
    return info;
  gst_bin_add_many(GST_BIN(pipeline.get()), src.get(), parse.get(), nullptr);
  gst_element_link(src.get(), parse.get());

  st.pipeline = pipeline.get();
  g_signal_connect(parse.get(), "pad-added", G_CALLBACK(on_pad_added), &st);
  g_signal_connect(parse.get(), "no-more-pads", G_CALLBACK(on_no_more_pads), &st);
  g_signal_connect(parse.get(), "deep-element-added", G_CALLBACK(on_element_added), &st);

  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
  auto deadline = start + timeout;
  std::string error;
  bool eos = false;
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "cannot open";
  // parsebin posts its stream collection once every track it knows is
  // exposed. Some demuxers (flvdemux) find a track later and parsebin posts
  // a bigger collection then: unless the demuxer has said it has no more
  // pads, wait a little for one before calling it done.
  constexpr auto kLateTrackGrace = std::chrono::milliseconds(100);
  // parsebin may expose a track before its caps are final (tsdemux's ADTS
  // audio says only "audio/mpeg" then): wait this much more for them; a
  // track still without them is left out, the others are served.
  constexpr auto kLateCapsGrace = std::chrono::seconds(1);
  size_t expected = 0;
  // Zero: not yet (a steady_clock time is never at its epoch here).
  std::chrono::steady_clock::time_point complete_at{}, found_at{};
  while (error.empty() && !eos) {
    {
      std::lock_guard<std::mutex> g(st.lock);
      auto now = std::chrono::steady_clock::now();
      bool found = st.done;
      // Every track the demuxer has is exposed: no need to wait longer.
      found = found || (st.has_demuxer && st.demuxer_complete &&
                        st.tracks.size() >= st.demuxer_pads && st.tracks.size() >= expected &&
                        expected > 0);
      // An elementary stream: one track, nothing comes later.
      found = found || (!st.has_demuxer && expected > 0 && st.tracks.size() >= expected);
      if (expected > 0 && st.tracks.size() >= expected) {
        if (complete_at == std::chrono::steady_clock::time_point{})
          complete_at = now;
        found = found || now - complete_at >= kLateTrackGrace;
      } else {
        complete_at = {};
      }
      if (found && found_at == std::chrono::steady_clock::time_point{})
        found_at = now;
      if (found && (all_caps_known(st) || now - found_at >= kLateCapsGrace))
        break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      error = "timed out after " + std::to_string(timeout.count()) + " ms finding the tracks";
      info.timed_out = true;
      break;
    }
    auto msg = Ref<GstMessage>::adopt(gst_bus_timed_pop_filtered(
        bus.get(), 5 * GST_MSECOND,
        GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_STREAM_COLLECTION)));
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_STREAM_COLLECTION) {
      if (GST_MESSAGE_SRC(msg.get()) == GST_OBJECT(parse.get())) {
        GstStreamCollection* raw = nullptr;
        gst_message_parse_stream_collection(msg.get(), &raw);
        auto c = Ref<GstStreamCollection>::adopt(raw);
        if (c)
          expected = std::max<size_t>(1, gst_stream_collection_get_size(c.get()));
      }
    } else if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) {
      eos = true;
    } else {
      GErrorPtr err;
      gst_message_parse_error(msg.get(), out(err), nullptr);
      error = err ? err->message : "unknown error";
    }
  }
  gint64 duration = -1;
  if (error.empty() && gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration) &&
      duration > 0)
    info.duration = GstClockTime(duration);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  // The streaming threads have stopped: the signal handlers are done (the
  // demuxer's went with it).
  g_signal_handlers_disconnect_by_data(parse.get(), &st);

  {
    std::lock_guard<std::mutex> g(st.lock);
    info.tracks = std::move(st.tracks);
    info.demuxer = st.demuxer;
  }
  for (auto& t : info.tracks) {
    t.description = describe(t.caps.get());
    std::string why;
    t.plan = plan_payload(t.caps.get(), &why);
  }
  info.probe_time = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (!error.empty()) {
    info.reason = error;
    return info;
  }
  if (info.tracks.empty()) {
    info.reason = "no tracks found";
    return info;
  }
  info.ok = true;
  return info;
}

constexpr std::chrono::seconds kTimedOutKept{30};

// One probe under way: its clients wait on `done` (under State::lock).
struct ProbeCache::Running {
  std::string path;
  FileIdentity id;
  std::shared_ptr<const MediaInfo> info;  // set when done
  std::condition_variable done;
};

struct ProbeCache::State {
  struct Entry {
    FileIdentity id;
    std::shared_ptr<const MediaInfo> info;
    std::list<std::string>::iterator lru;
    // A timed-out probe is kept for a while only: the machine may just
    // have been busy, and the client asked to come back gets its answer.
    std::chrono::steady_clock::time_point expires;
  };
  size_t capacity;
  size_t max_running;
  ProbeFn probe;
  mutable std::mutex lock;  // protects everything below; never held while probing
  std::unordered_map<std::string, Entry> entries;
  std::list<std::string> lru;  // most recent first
  std::unordered_map<std::string, std::shared_ptr<Running>> running;  // by path

  void store_locked(const std::string& path, const FileIdentity& id,
                    std::shared_ptr<const MediaInfo> info) {
    auto it = entries.find(path);
    if (it != entries.end()) {
      lru.erase(it->second.lru);
      entries.erase(it);
    }
    lru.push_front(path);
    auto expires = info->timed_out ? std::chrono::steady_clock::now() + kTimedOutKept
                                   : std::chrono::steady_clock::time_point::max();
    entries.emplace(path, Entry{id, std::move(info), lru.begin(), expires});
    while (entries.size() > capacity) {
      entries.erase(lru.back());
      lru.pop_back();
    }
  }
};

ProbeCache::ProbeCache(size_t capacity, size_t max_running, ProbeFn probe)
    : state_(std::make_shared<State>()) {
  state_->capacity = capacity;
  state_->max_running = max_running;
  state_->probe = std::move(probe);
}

void ProbeCache::probe_thread(std::shared_ptr<State> state, std::shared_ptr<Running> run,
                              std::chrono::milliseconds timeout) {
  auto info = std::make_shared<const MediaInfo>(state->probe(run->path, timeout));
  std::lock_guard<std::mutex> g(state->lock);
  run->info = info;
  if (auto it = state->running.find(run->path); it != state->running.end() && it->second == run)
    state->running.erase(it);
  state->store_locked(run->path, run->id, info);
  run->done.notify_all();
}

std::shared_ptr<const MediaInfo> ProbeCache::get(const std::string& path, const FileIdentity& id,
                                                 std::chrono::milliseconds timeout,
                                                 std::chrono::milliseconds wait, bool* cached) {
  if (cached)
    *cached = false;
  std::unique_lock<std::mutex> g(state_->lock);
  auto it = state_->entries.find(path);
  if (it != state_->entries.end() && it->second.id == id &&
      it->second.expires > std::chrono::steady_clock::now()) {
    state_->lru.splice(state_->lru.begin(), state_->lru, it->second.lru);
    if (cached)
      *cached = true;
    return it->second.info;
  }
  std::shared_ptr<Running> run;
  if (auto r = state_->running.find(path); r != state_->running.end() && r->second->id == id) {
    run = r->second;
  } else {
    if (state_->running.size() >= state_->max_running)
      return nullptr;
    run = std::make_shared<Running>();
    run->path = path;
    run->id = id;
    state_->running[path] = run;  // a probe of an older version runs on, unlisted
    try {
      std::thread(probe_thread, state_, run, timeout).detach();
    } catch (const std::system_error&) {
      state_->running.erase(path);
      return nullptr;
    }
  }
  run->done.wait_for(g, wait, [&] { return run->info != nullptr; });
  return run->info;
}

size_t ProbeCache::size() const {
  std::lock_guard<std::mutex> g(state_->lock);
  return state_->entries.size();
}

}  // namespace gms::mounts
