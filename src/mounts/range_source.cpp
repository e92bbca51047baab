#include "mounts/range_source.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "core/log.h"
#include "mounts/pinned_file.h"
#include "mounts/range_bin.h"

namespace gms::mounts {
namespace {

class RangeSource;

// Before the start, per track: video since the last key frame, other
// tracks everything, up to this many buffers.
constexpr size_t kMaxHeld = 4000;
// Without video, a seek past the end of the media plays its last second.
constexpr guint64 kEndMargin = GST_SECOND;

// One build of the sources, from one start position. Kept (retired) until
// the bin goes: its elements' probes point to it.
struct Generation {
  RangeSource* owner = nullptr;
  guint64 target = 0;                    // timeline: start at the key frame at or before
  guint64 end = GST_CLOCK_TIME_NONE;     // timeline: EOS from here
  guint64 npt0 = 0;                      // timeline position of npt 0
  guint64 duration = 0;                  // announced, ns of npt
  std::vector<Ref<GstElement>> elements;  // the concats first
  struct Slot {
    std::string media_type;
    unsigned nth = 0;  // the nth track of that type in a file
    Ref<GstPad> sink;  // a concat sink pad
    bool used = false;
  };
  std::mutex lock;                       // protects files
  std::vector<std::vector<Slot>> files;  // per file built
  std::vector<guint64> starts;           // per file built: its start on the timeline
  std::vector<char> after_gap;           // per file built: a gap before it
  // Per file built, under lock: its tracks exposed before their caps came
  // (tsdemux's ADTS audio), and whether its parsebin has no more pads. Its
  // unclaimed slots end when both are settled.
  std::vector<unsigned> waiting;
  std::vector<char> no_more_pads;
  // Per file built: its first timestamp (the file's own 0), from whichever
  // track brings a buffer first (one demuxer thread pushes them in order).
  std::unique_ptr<std::atomic<guint64>[]> first_ts;
  // Per file built: where it starts on the timeline as played, set by the
  // first track that gets there (see place_file). The names of segments
  // that follow each other are not exact (the first of a recording can be
  // 0.5 s longer by its name than by its media): played through, such
  // segments follow each other directly, never with a jump.
  std::unique_ptr<std::atomic<guint64>[]> placed;
  bool has_video = false;
  // The timeline position the stream starts at (running time 0): the key
  // frame at or before `target`, set by the video track.
  std::atomic<guint64> origin{GST_CLOCK_TIME_NONE};

  guint64 npt_of_origin() const {
    guint64 o = origin.load();
    return GST_CLOCK_TIME_IS_VALID(o) && o > npt0 ? o - npt0 : 0;
  }
};

class RangeSource {
 public:
  GstBin* bin = nullptr;  // owns this
  RangeSpec spec;
  std::vector<std::string> types;
  std::vector<Ref<GstPad>> sinks;  // the multiqueue's, one per type

  // Builds the sources for `target` into the bin (states not set).
  bool build(guint64 target);
  // A seek from downstream (any track; each seek is handled once).
  void seek(GstEvent* event);
  // The sources (filesrc, parsebin) of the first build are kept out of the
  // bin's state changes until the concats run (range_bin.h says why);
  // start_sources() brings them to PAUSED once the bin's other children are
  // (`started`; else it only lets the bin take them again); false when one
  // cannot start.
  void hold_sources();
  bool start_sources(bool started);
  // The bin is about to leave PAUSED: the concats go first, which releases
  // the demuxer threads waiting in them.
  void release_waiting();

 private:
  std::mutex lock_;  // protects gen_, retired_, last_seek_; held while seeking
  std::shared_ptr<Generation> gen_;
  std::vector<std::shared_ptr<Generation>> retired_;
  guint32 last_seek_ = GST_SEQNUM_INVALID;

  bool build_locked(guint64 target);
};

// A concat's source pad; its fields belong to the pad's streaming thread.
struct RangeOutput {
  Generation* gen = nullptr;
  unsigned track = 0;    // index into the files' slots
  unsigned file = 0;     // the file playing, as told by concat's segments
  bool fresh = true;     // no buffer of that file yet
  gint64 shift = 0;      // the file's timestamps onto the timeline
  guint64 last_end = GST_CLOCK_TIME_NONE;  // timeline: end of the last buffer
  bool video = false;
  bool started = false;
  bool pushing = false;  // our own pushes pass the probe
  bool ended = false;    // the end went by: EOS sent, the rest dropped
  std::vector<std::pair<guint64, Ref<GstBuffer>>> held;
};

struct FileRef {
  Generation* gen;
  unsigned index;  // into gen->files
};

void shift_buffer(GstBuffer* buf, gint64 by) {
  auto move = [by](GstClockTime t) -> GstClockTime {
    if (!GST_CLOCK_TIME_IS_VALID(t))
      return t;
    return by < 0 && t < guint64(-by) ? 0 : GstClockTime(gint64(t) + by);
  };
  GST_BUFFER_PTS(buf) = move(GST_BUFFER_PTS(buf));
  GST_BUFFER_DTS(buf) = move(GST_BUFFER_DTS(buf));
}

// What goes downstream instead of concat's segments: running time is the
// timeline less the origin, stream time is npt, the range's duration is
// where gst-rtsp-server reads the end of the SDP's range before PLAY.
GstEvent* output_segment(const Generation& g) {
  GstSegment s;
  gst_segment_init(&s, GST_FORMAT_TIME);
  s.time = g.npt_of_origin();
  s.duration = g.duration;
  return gst_event_new_segment(&s);
}

// A concat sink pad (one file, one track): the file's first timestamp.
GstPadProbeReturn on_file_buffer(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* f = static_cast<FileRef*>(data);
  const GstClockTime ts = GST_BUFFER_DTS_OR_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  std::atomic<guint64>& first = f->gen->first_ts[f->index];
  guint64 none = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(ts) && !GST_CLOCK_TIME_IS_VALID(first.load()))
    first.compare_exchange_strong(none, ts);
  return GST_PAD_PROBE_OK;
}

// concat forwards each file's segment when that file's turn comes: which
// file is it.
void note_file(GstPad* pad, RangeOutput& out) {
  GstPad* active = nullptr;
  g_object_get(GST_PAD_PARENT(pad), "active-pad", &active, nullptr);
  auto held = Ref<GstPad>::adopt(active);
  std::lock_guard<std::mutex> g(out.gen->lock);
  for (size_t i = 0; i < out.gen->files.size(); ++i)
    if (out.track < out.gen->files[i].size() && out.gen->files[i][out.track].sink == held) {
      out.file = unsigned(i);
      out.fresh = true;
    }
}

// The first buffer of a file on this track: where the file goes.
void place_file(RangeOutput& out, GstClockTime ts) {
  Generation& g = *out.gen;
  const unsigned i = out.file;
  // After a gap: as far after the file before it as their names are
  // apart (the gap is then what the names say, whatever the error in
  // earlier names); else right after the media before it.
  guint64 at = g.starts[i];
  const guint64 before = i > 0 ? g.placed[i - 1].load() : GST_CLOCK_TIME_NONE;
  if (i > 0 && g.after_gap[i] && GST_CLOCK_TIME_IS_VALID(before))
    at = before + (g.starts[i] - g.starts[i - 1]);
  else if (i > 0 && !g.after_gap[i] && GST_CLOCK_TIME_IS_VALID(out.last_end))
    at = out.last_end;
  guint64 none = GST_CLOCK_TIME_NONE;
  if (!g.placed[i].compare_exchange_strong(none, at))
    at = none;  // another track placed it
  guint64 zero = g.first_ts[i].load();
  if (!GST_CLOCK_TIME_IS_VALID(zero))
    zero = ts;
  out.shift = gint64(at) - gint64(zero);
  out.fresh = false;
}

// Starts the track at `origin`: our segment, then the held buffers from
// `origin` on. Pushed through `pad`, or, once an EOS is on its way through
// it (the pad takes no more data then), straight into its peer.
void start_output(GstPad* pad, RangeOutput& out, guint64 origin, bool into_peer = false) {
  auto held = std::move(out.held);
  out.held.clear();
  out.started = true;
  auto peer = into_peer ? Ref<GstPad>::adopt(gst_pad_get_peer(pad)) : Ref<GstPad>();
  if (into_peer && !peer)
    return;
  out.pushing = true;
  if (peer)
    gst_pad_send_event(peer.get(), output_segment(*out.gen));
  else
    gst_pad_push_event(pad, output_segment(*out.gen));
  for (auto& [t, b] : held) {
    if (t < origin)
      continue;
    GstBuffer* buf = gst_buffer_make_writable(b.release());
    shift_buffer(buf, -gint64(origin));
    if ((peer ? gst_pad_chain(peer.get(), buf) : gst_pad_push(pad, buf)) != GST_FLOW_OK)
      break;
  }
  out.pushing = false;
}

// The media ended before the target (a seek past the last frame: a
// name-based length can be some tenths of a second longer than the media):
// the stream starts at the last key frame (the video track holds its GOP),
// or, without video, a second before the end. A track that ends before the
// video track knows the origin has nothing to play.
void start_at_end(GstPad* pad, RangeOutput& out) {
  Generation& g = *out.gen;
  if (out.held.empty())
    return;
  guint64 from = out.held.front().first;
  if (!g.has_video)
    for (const auto& [t, b] : out.held)
      if (t + kEndMargin >= out.held.back().first) {
        from = t;
        break;
      }
  guint64 none = GST_CLOCK_TIME_NONE;
  if (out.video || !g.has_video)
    g.origin.compare_exchange_strong(none, from);
  if (!GST_CLOCK_TIME_IS_VALID(g.origin.load()))
    return;
  GMS_LOG_DEBUG("recordings %s: the media ends before the target; from %.3f s",
                g.owner->spec.mount_path.c_str(), double(g.npt_of_origin()) / GST_SECOND);
  start_output(pad, out, g.origin, true);
}

// On a concat's source pad: the start (the video track drops what comes
// before the key frame at or before the target, whose time becomes the
// origin; the other tracks hold their data until it is known, never
// blocking: one demuxer thread feeds every track), timestamps less the
// origin, our segment for concat's, and EOS at the end.
GstPadProbeReturn on_range_data(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* out = static_cast<RangeOutput*>(data);
  Generation& g = *out->gen;
  if (out->pushing)
    return GST_PAD_PROBE_OK;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_SEGMENT:  // one per file; the timeline goes on across them
        note_file(pad, *out);
        gst_event_unref(event);
        GST_PAD_PROBE_INFO_DATA(info) = output_segment(g);
        return GST_PAD_PROBE_OK;
      case GST_EVENT_EOS:
        if (out->ended)
          return GST_PAD_PROBE_DROP;
        if (!out->started)
          start_at_end(pad, *out);
        return GST_PAD_PROBE_OK;
      default:
        return GST_PAD_PROBE_OK;
    }
  }
  if (out->ended)
    return GST_PAD_PROBE_DROP;
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_CLOCK_TIME_IS_VALID(GST_BUFFER_DTS_OR_PTS(buf)))
    return GST_PAD_PROBE_DROP;
  if (out->fresh)
    place_file(*out, GST_BUFFER_DTS_OR_PTS(buf));
  buf = gst_buffer_make_writable(buf);
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  shift_buffer(buf, out->shift);
  const guint64 t = GST_BUFFER_DTS_OR_PTS(buf);
  out->last_end = t + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
  if (!out->started) {
    if (out->video) {
      if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
        out->held.clear();
      else if (out->held.empty())
        return GST_PAD_PROBE_DROP;  // no key frame yet
      out->held.emplace_back(t, Ref<GstBuffer>::borrow(buf));
      if (t < g.target)
        return GST_PAD_PROBE_DROP;  // held
      g.origin = out->held.front().first;
    } else {
      if (!g.has_video && t >= g.target && !GST_CLOCK_TIME_IS_VALID(g.origin.load()))
        g.origin = t;
      out->held.emplace_back(t, Ref<GstBuffer>::borrow(buf));
      if (out->held.size() > kMaxHeld)
        out->held.erase(out->held.begin());
      if (!GST_CLOCK_TIME_IS_VALID(g.origin.load()))
        return GST_PAD_PROBE_DROP;  // held until the video track knows
    }
    start_output(pad, *out, g.origin);
    return GST_PAD_PROBE_DROP;  // pushed with the held ones
  }
  if (GST_CLOCK_TIME_IS_VALID(t) && GST_CLOCK_TIME_IS_VALID(g.end) && t >= g.end) {
    GMS_LOG_DEBUG("recordings %s: %s ends at %" GST_TIME_FORMAT, g.owner->spec.mount_path.c_str(),
                  GST_PAD_NAME(pad), GST_TIME_ARGS(t));
    // The EOS goes to the next element, not through the concat's pad: the
    // files upstream run on to their end with their data dropped here (an
    // EOS flow back into them stopped the demuxers with an error).
    out->ended = true;
    if (auto peer = Ref<GstPad>::adopt(gst_pad_get_peer(pad)))
      gst_pad_send_event(peer.get(), gst_event_new_eos());
    return GST_PAD_PROBE_DROP;
  }
  shift_buffer(buf, -gint64(g.origin.load()));
  return GST_PAD_PROBE_OK;
}

// Queries from downstream: the range has a known length and seeks.
GstPadProbeReturn on_range_query(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* g = static_cast<Generation*>(data);
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  GstFormat format = GST_FORMAT_UNDEFINED;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DURATION:
      gst_query_parse_duration(query, &format, nullptr);
      if (format != GST_FORMAT_TIME)
        return GST_PAD_PROBE_OK;
      gst_query_set_duration(query, GST_FORMAT_TIME, gint64(g->duration));
      return GST_PAD_PROBE_HANDLED;
    case GST_QUERY_SEEKING:
      gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
      if (format != GST_FORMAT_TIME)
        return GST_PAD_PROBE_OK;
      gst_query_set_seeking(query, GST_FORMAT_TIME, TRUE, 0, gint64(g->duration));
      return GST_PAD_PROBE_HANDLED;
    case GST_QUERY_SEGMENT:  // gst-rtsp-server takes the range's end from it
      gst_query_set_segment(query, 1.0, GST_FORMAT_TIME, gint64(g->npt_of_origin()),
                            gint64(g->duration));
      return GST_PAD_PROBE_HANDLED;
    default:
      return GST_PAD_PROBE_OK;
  }
}

// A seek from downstream (a PLAY with Range, made by gst-rtsp-server on the
// RTSP client's thread): handled here, never passed to concat.
GstPadProbeReturn on_range_seek(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_SEEK)
    return GST_PAD_PROBE_OK;
  static_cast<RangeSource*>(data)->seek(event);
  return GST_PAD_PROBE_DROP;
}

// The file's track to the free concat pad of its type; dropped if none.
void link_range_pad(GstPad* pad, const std::string& type, FileRef* f) {
  Ref<GstPad> target;
  {
    std::lock_guard<std::mutex> g(f->gen->lock);
    unsigned seen = 0;
    static std::vector<Generation::Slot> none;  // a retired generation's
    for (auto& slot : f->index < f->gen->files.size() ? f->gen->files[f->index] : none) {
      if (slot.media_type != type)
        continue;
      if (!slot.used && slot.nth == seen) {
        slot.used = true;
        target = slot.sink;
        break;
      }
      if (slot.used)
        ++seen;
    }
  }
  if (!target || gst_pad_link(pad, target.get()) != GST_PAD_LINK_OK)
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo*, gpointer) noexcept { return GST_PAD_PROBE_DROP; }, nullptr,
        nullptr);
}

// A file without one of the tracks: its concat pad ends at once, or the
// concat would wait on it for ever.
void end_unclaimed_slots(Generation* gen, unsigned index) {
  std::vector<Ref<GstPad>> unused;
  {
    std::lock_guard<std::mutex> g(gen->lock);
    if (index >= gen->files.size())
      return;  // a retired generation's
    for (auto& slot : gen->files[index])
      if (!slot.used) {
        slot.used = true;
        unused.push_back(slot.sink);
      }
  }
  for (auto& pad : unused) {
    GCharPtr id(g_strdup_printf("gms-range-empty-%u", index));
    gst_pad_send_event(pad.get(), gst_event_new_stream_start(id.get()));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_pad_send_event(pad.get(), gst_event_new_segment(&seg));
    gst_pad_send_event(pad.get(), gst_event_new_eos());
  }
}

// One track of a file exposed without caps settled; true if the file's
// tracks are all placed now and parsebin has no more pads.
bool settle_track(FileRef* f) {
  std::lock_guard<std::mutex> g(f->gen->lock);
  if (f->index >= f->gen->waiting.size())
    return false;
  return --f->gen->waiting[f->index] == 0 && f->gen->no_more_pads[f->index];
}

// A track exposed before its caps: linked by its type at its caps event,
// or left out if it ends without one.
GstPadProbeReturn on_late_caps(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* f = static_cast<FileRef*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    GstCaps* caps = nullptr;
    gst_event_parse_caps(event, &caps);
    link_range_pad(pad, gst_caps_get_size(caps) ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "",
                   f);
  } else if (GST_EVENT_TYPE(event) != GST_EVENT_EOS) {
    return GST_PAD_PROBE_OK;
  }
  if (settle_track(f))
    end_unclaimed_slots(f->gen, f->index);
  return GST_PAD_PROBE_REMOVE;
}

// parsebin's streaming thread: the file's track to its concat pad. parsebin
// can expose a track before its parser has settled its caps (tsdemux's
// ADTS AAC): such a track is placed when its caps come.
void on_range_pad(GstElement*, GstPad* pad, gpointer data) noexcept {
  auto* f = static_cast<FileRef*>(data);
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  if (caps && gst_caps_get_size(caps.get())) {
    link_range_pad(pad, gst_structure_get_name(gst_caps_get_structure(caps.get(), 0)), f);
    return;
  }
  {
    std::lock_guard<std::mutex> g(f->gen->lock);
    if (f->index >= f->gen->waiting.size())
      return;
    ++f->gen->waiting[f->index];
  }
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_late_caps,
                    new FileRef{f->gen, f->index},
                    [](gpointer p) { delete static_cast<FileRef*>(p); });
}

void on_range_no_more_pads(GstElement*, gpointer data) noexcept {
  auto* f = static_cast<FileRef*>(data);
  {
    std::lock_guard<std::mutex> g(f->gen->lock);
    if (f->index >= f->gen->no_more_pads.size())
      return;  // a retired generation's
    f->gen->no_more_pads[f->index] = true;
    if (f->gen->waiting[f->index] > 0)
      return;  // the last late track ends them
  }
  end_unclaimed_slots(f->gen, f->index);
}

bool RangeSource::build(guint64 target) {
  std::lock_guard<std::mutex> g(lock_);
  return build_locked(target);
}

bool RangeSource::build_locked(guint64 target) {
  auto gen = std::make_shared<Generation>();
  gen->owner = this;
  gen->target = target;
  gen->npt0 = spec.offset;
  gen->duration = spec.duration;
  gen->end = spec.cut_at_end ? spec.offset + spec.duration : GST_CLOCK_TIME_NONE;
  // From the file that holds the target (each file starts with a key frame).
  size_t first = 0;
  for (size_t i = 0; i < spec.files.size(); ++i)
    if (spec.starts[i] <= target)
      first = i;
  const size_t n = spec.files.size() - first;
  gen->files.resize(n);
  gen->waiting.assign(n, 0);
  gen->no_more_pads.assign(n, 0);
  gen->starts.assign(spec.starts.begin() + long(first), spec.starts.end());
  gen->after_gap.assign(spec.after_gap.begin() + long(first), spec.after_gap.end());
  gen->first_ts = std::make_unique<std::atomic<guint64>[]>(n);
  gen->placed = std::make_unique<std::atomic<guint64>[]>(n);
  for (size_t i = 0; i < n; ++i) {
    gen->first_ts[i] = GST_CLOCK_TIME_NONE;
    gen->placed[i] = GST_CLOCK_TIME_NONE;
  }
  std::map<std::string, unsigned> per_type;
  for (size_t t = 0; t < types.size(); ++t) {
    auto concat = Ref<GstElement>::adopt(gst_element_factory_make("concat", nullptr));
    if (!concat)
      return false;
    // The bin adds a reference of its own (ours is no longer floating).
    gst_bin_add(bin, concat.get());
    gen->elements.push_back(concat);
    auto src = Ref<GstPad>::adopt(gst_element_get_static_pad(concat.get(), "src"));
    if (gst_pad_link(src.get(), sinks[t].get()) != GST_PAD_LINK_OK)
      return false;
    auto* out = new RangeOutput();
    out->gen = gen.get();
    out->track = unsigned(t);
    out->video = g_str_has_prefix(types[t].c_str(), "video/");
    gen->has_video |= out->video;
    gst_pad_add_probe(src.get(),
                      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      on_range_data, out, [](gpointer p) { delete static_cast<RangeOutput*>(p); });
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, on_range_query, gen.get(),
                      nullptr);
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_range_seek, this, nullptr);
    unsigned nth = per_type[types[t]]++;
    for (size_t i = 0; i < n; ++i) {
      auto pad = Ref<GstPad>::adopt(gst_element_request_pad_simple(concat.get(), "sink_%u"));
      if (!pad)
        return false;
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_file_buffer,
                        new FileRef{gen.get(), unsigned(i)},
                        [](gpointer p) { delete static_cast<FileRef*>(p); });
      gen->files[i].push_back({types[t], nth, pad, false});
    }
  }
  for (size_t i = 0; i < n; ++i) {
    auto src = Ref<GstElement>::adopt(gst_element_factory_make("filesrc", nullptr));
    auto parse = Ref<GstElement>::adopt(gst_element_factory_make("parsebin", nullptr));
    if (!src || !parse)
      return false;
    std::string why;
    if (!set_pinned_location(src.get(), spec.files[first + i], why)) {
      GMS_LOG_WARN("path %s: %s: %s", spec.mount_path.c_str(), spec.files[first + i].c_str(),
                   why.c_str());
      return false;
    }
    gst_bin_add_many(bin, src.get(), parse.get(), nullptr);
    gen->elements.push_back(src);
    gen->elements.push_back(parse);
    if (!gst_element_link(src.get(), parse.get()))
      return false;
    auto* f = new FileRef{gen.get(), unsigned(i)};
    g_signal_connect_data(parse.get(), "pad-added", G_CALLBACK(on_range_pad), f,
                          [](gpointer p, GClosure*) { delete static_cast<FileRef*>(p); },
                          GConnectFlags(0));
    g_signal_connect(parse.get(), "no-more-pads", G_CALLBACK(on_range_no_more_pads), f);
  }
  GMS_LOG_DEBUG("recordings %s: from %s, %.3f s into the range", spec.mount_path.c_str(),
                spec.files[first].c_str(),
                double(gint64(target) - gint64(spec.offset)) / GST_SECOND);
  if (gen_)
    retired_.push_back(std::move(gen_));
  gen_ = std::move(gen);
  return true;
}

void RangeSource::hold_sources() {
  std::lock_guard<std::mutex> g(lock_);
  for (size_t i = types.size(); gen_ && i < gen_->elements.size(); ++i)
    gst_element_set_locked_state(gen_->elements[i].get(), TRUE);
}

bool RangeSource::start_sources(bool started) {
  std::vector<Ref<GstElement>> held;
  {
    std::lock_guard<std::mutex> g(lock_);
    for (size_t i = types.size(); gen_ && i < gen_->elements.size(); ++i)
      if (gst_element_is_locked_state(gen_->elements[i].get()))
        held.push_back(gen_->elements[i]);
  }
  // Each parsebin before its filesrc, as a bin orders them.
  bool ok = true;
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    gst_element_set_locked_state(it->get(), FALSE);
    if (started && ok && gst_element_set_state(it->get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
      GMS_LOG_WARN("recordings %s: %s cannot start", spec.mount_path.c_str(), GST_ELEMENT_NAME(it->get()));
      ok = false;
    }
  }
  return ok;
}

void RangeSource::release_waiting() {
  std::vector<Ref<GstElement>> concats;
  {
    std::lock_guard<std::mutex> g(lock_);
    if (gen_)
      for (size_t t = 0; t < types.size() && t < gen_->elements.size(); ++t)
        concats.push_back(gen_->elements[t]);  // the concats first
  }
  for (auto& c : concats)
    gst_element_set_state(c.get(), GST_STATE_READY);
}

// The demuxer's seek, for the whole range: flush downstream, stop and drop
// the sources, build them again from the file that holds the position.
void RangeSource::seek(GstEvent* event) {
  gdouble rate = 1.0;
  GstFormat format = GST_FORMAT_UNDEFINED;
  GstSeekFlags flags = GST_SEEK_FLAG_NONE;
  GstSeekType start_type = GST_SEEK_TYPE_NONE, stop_type = GST_SEEK_TYPE_NONE;
  gint64 start = 0, stop = 0;
  gst_event_parse_seek(event, &rate, &format, &flags, &start_type, &start, &stop_type, &stop);
  const guint32 seqnum = gst_event_get_seqnum(event);
  std::lock_guard<std::mutex> g(lock_);
  if (format != GST_FORMAT_TIME || seqnum == last_seek_ || !gen_)
    return;
  last_seek_ = seqnum;
  // No new position (a rate change only): nothing to do; a range plays at 1.
  if (start_type != GST_SEEK_TYPE_SET || start < 0)
    return;
  // Past the media's end (its length from names can be some tenths of a
  // second long), the stream starts at its last key frame (start_at_end).
  const guint64 target = spec.offset + std::min(guint64(start), spec.duration);
  GMS_LOG_INFO("recordings %s: seek to %.3f s", spec.mount_path.c_str(),
               double(start) / GST_SECOND);
  auto flush_start = [seqnum] {
    GstEvent* e = gst_event_new_flush_start();
    gst_event_set_seqnum(e, seqnum);
    return e;
  };
  for (auto& sink : sinks)
    gst_pad_send_event(sink.get(), flush_start());
  // The concats first: that unblocks their waiting pads, and the demuxer
  // threads pushing into them stop with FLUSHING.
  auto old = gen_;
  for (auto& e : old->elements)
    gst_element_set_state(e.get(), GST_STATE_NULL);
  for (auto& e : old->elements)
    gst_bin_remove(bin, e.get());
  // Only the (small) Generation stays, for probes that might still look.
  old->elements.clear();
  {
    std::lock_guard<std::mutex> fg(old->lock);
    old->files.clear();
    old->waiting.clear();
    old->no_more_pads.clear();
  }
  for (auto& sink : sinks) {
    GstEvent* e = gst_event_new_flush_stop(TRUE);
    gst_event_set_seqnum(e, seqnum);
    gst_pad_send_event(sink.get(), e);
  }
  if (!build_locked(target)) {
    GMS_LOG_WARN("recordings %s: cannot build the sources again after a seek",
                 spec.mount_path.c_str());
    return;
  }
  for (auto& e : gen_->elements)
    gst_element_sync_state_with_parent(e.get());
}

}  // namespace

bool add_range_source(GstBin* bin, const RangeSpec& spec, const std::vector<std::string>& types,
                      const std::vector<Ref<GstPad>>& sinks) {
  if (spec.files.empty() || spec.starts.size() != spec.files.size() ||
      spec.after_gap.size() != spec.files.size() || types.size() != sinks.size())
    return false;
  auto* source = new RangeSource();
  g_object_set_data_full(G_OBJECT(bin), "gms-range-source", source,
                         [](gpointer p) { delete static_cast<RangeSource*>(p); });
  source->bin = bin;
  source->spec = spec;
  source->types = types;
  source->sinks = sinks;
  range_bin_set_hooks(
      GST_ELEMENT(bin), [source](bool started) { return source->start_sources(started); },
      [source] { source->release_waiting(); });
  if (!source->build(spec.offset))
    return false;
  source->hold_sources();
  return true;
}

}  // namespace gms::mounts
