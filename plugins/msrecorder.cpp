/**
 * SECTION:element-msrecorder
 * @title: msrecorder
 *
 * Writes parsed streams (one `video` pad, any number of `audio_%u` pads) into
 * time-segmented files through splitmuxsink: a new file every
 * #GmsRecorder:segment-duration, cut at a video key frame so every file
 * starts with one. The default format is fragmented MP4 (mp4mux with
 * 0.5-second fragments: the moov comes first and each fragment is complete on
 * disk, so a file stays playable up to its last fragment after a crash; a
 * crash loses that fragment plus the group of pictures splitmuxsink holds
 * back until the next key frame);
 * Matroska and MPEG-TS are the alternatives.
 *
 * File names come from #GmsRecorder:location-pattern: `%path` is the
 * #GmsRecorder:path-name property, then strftime-style fields are filled from
 * the local wall-clock time at which the segment opens (`%f` = microseconds).
 * Missing directories are created; an existing name gets a `-N` suffix.
 *
 * Retention: after each segment closes, segments this element wrote that
 * started more than #GmsRecorder:delete-after seconds ago are deleted, then
 * the oldest ones until their total is at most #GmsRecorder:max-bytes. Files
 * are deleted off the streaming thread. Files of earlier runs are left alone.
 *
 * Bus element messages: "msrecorder-segment-opened" and
 * "msrecorder-segment-closed" (fields: location (string), running-time
 * (guint64)), "msrecorder-segment-deleted" (location).
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

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "elements.h"
#include "gms/ref.h"
#include "gms/signal.h"
#include "segment_policy.h"

GST_DEBUG_CATEGORY_STATIC(gms_recorder_debug);
#define GST_CAT_DEFAULT gms_recorder_debug

namespace {

constexpr const char* kDefaultPatternStem = "%path/%Y-%m-%d_%H-%M-%S-%f";
constexpr guint64 kDefaultSegmentDuration = 60 * GST_SECOND;
// mp4 fragment length. A crash loses at most the fragment being written plus
// the GOP splitmuxsink holds back until it sees the next key frame.
constexpr guint kFragmentMs = 500;
constexpr guint64 kQueueTime = 5 * GST_SECOND;

enum {
  PROP_0,
  PROP_PATH_NAME,
  PROP_LOCATION_PATTERN,
  PROP_FORMAT,
  PROP_SEGMENT_DURATION,
  PROP_DELETE_AFTER,
  PROP_MAX_BYTES,
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
  gms::RetentionSettings retention;

  std::string effective_pattern() const {
    return pattern.empty() ? std::string(kDefaultPatternStem) + extension(format) : pattern;
  }
};

struct PadLink {
  gms::Ref<GstElement> queue;
  gms::Ref<GstPad> split_pad;
};

// C++ state of the element; made with new in init, deleted in finalize.
struct Impl {
  std::mutex settings_mutex;  // protects settings; held only to copy them
  Settings settings;

  gms::Ref<GstElement> splitmux;  // our child, for our whole life
  gms::SignalConnection location_signal;

  // Control: request/release pads and state changes (element's state lock).
  std::map<GstPad*, PadLink> pads;
  guint next_audio = 0;
  bool muxer_set = false;

  std::mutex segments_mutex;  // protects segments, eos_pads; never held while posting
  std::vector<gms::SegmentFile> segments;
  std::string open_location;
  std::vector<GstPad*> eos_pads;

  std::atomic<bool> failed{false};

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
      {GMS_RECORDER_FORMAT_MP4, "Fragmented MP4 (0.5 s fragments, playable after a crash)", "mp4"},
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

// splitmuxsink needs its muxer before the first pad is requested (it requests
// the muxer's pad at once), so the format is fixed then.
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
  g_object_set(impl->splitmux.get(), "muxer", mux.get(), nullptr);
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

// splitmuxsink asks for each new file name on its streaming thread.
gchar* on_format_location(GstElement*, guint fragment, GstSample*, gpointer user_data) noexcept {
  auto* self = GMS_RECORDER(user_data);
  Impl* impl = self->impl;
  const Settings s = impl->copy_settings();
  const gint64 now = g_get_real_time();
  std::string name = gms::SegmentPolicy::format_location(s.effective_pattern(), s.path_name, now);
  if (name.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Invalid location-pattern"), ("%s", s.effective_pattern().c_str()));
    name = s.path_name + "/segment-" + std::to_string(now) + extension(s.format);
  }
  // One mkdir per segment is the only file system work on this thread.
  if (gchar* dir = g_path_get_dirname(name.c_str())) {
    if (g_mkdir_with_parents(dir, 0755) != 0)
      GST_WARNING_OBJECT(self, "cannot create %s: %s", dir, g_strerror(errno));
    g_free(dir);
  }
  name = unique_name(name);
  {
    std::lock_guard lock(impl->segments_mutex);
    for (auto& seg : impl->segments)
      seg.open = false;
    impl->segments.push_back(gms::SegmentFile{name, now, 0, true});
    impl->open_location = name;
  }
  GST_INFO_OBJECT(self, "segment %u: %s", fragment, name.c_str());
  return g_strdup(name.c_str());
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

void post_segment_message(GmsRecorder* self, const char* name, const GstStructure* from) {
  const gchar* location = gst_structure_get_string(from, "location");
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  gst_structure_get_clock_time(from, "running-time", &rt);
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self),
                                                   gst_structure_new(name, "location", G_TYPE_STRING,
                                                                     location ? location : "", "running-time",
                                                                     G_TYPE_UINT64, rt, nullptr)));
}

bool note_eos(GmsRecorder* self, GstPad* pad);
void post_own_eos(GmsRecorder* self);

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
  if (note_eos(self, nullptr))
    post_own_eos(self);
}

void handle_message(GstBin* bin, GstMessage* message) noexcept {
  auto* self = GMS_RECORDER(bin);
  Impl* impl = self->impl;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(message);
      if (s && gst_structure_has_name(s, "splitmuxsink-fragment-opened")) {
        post_segment_message(self, "msrecorder-segment-opened", s);
        gst_message_unref(message);
        return;
      }
      if (s && gst_structure_has_name(s, "splitmuxsink-fragment-closed")) {
        post_segment_message(self, "msrecorder-segment-closed", s);
        gst_message_unref(message);
        gst_element_call_async(GST_ELEMENT(self), apply_retention, nullptr, nullptr);
        return;
      }
      break;
    }
    case GST_MESSAGE_ERROR:
      fail(self, message);
      gst_message_unref(message);
      return;
    default:
      break;
  }
  (void)impl;
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

// Records that `pad` got EOS; true when every sink pad has.
bool note_eos(GmsRecorder* self, GstPad* pad) {
  Impl* impl = self->impl;
  std::lock_guard lock(impl->segments_mutex);
  if (pad && std::find(impl->eos_pads.begin(), impl->eos_pads.end(), pad) == impl->eos_pads.end())
    impl->eos_pads.push_back(pad);
  GST_OBJECT_LOCK(self);
  const bool all = !impl->eos_pads.empty() && impl->eos_pads.size() >= guint(GST_ELEMENT(self)->numsinkpads);
  GST_OBJECT_UNLOCK(self);
  return all;
}

void post_own_eos(GmsRecorder* self) {
  GST_INFO_OBJECT(self, "input ended after a failure: posting EOS ourselves");
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_eos(GST_OBJECT(self)));
}

// After a failure the children never reach EOS; we post it ourselves once
// every input has ended, so the pipeline still sees the end of stream.
GstPadProbeReturn on_event(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) noexcept {
  auto* self = GMS_RECORDER(user_data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  const bool all = note_eos(self, pad);
  if (!self->impl->failed.load())
    return GST_PAD_PROBE_OK;
  if (all)
    post_own_eos(self);
  return GST_PAD_PROBE_DROP;
}

GstPad* request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* req_name, const GstCaps*) noexcept {
  auto* self = GMS_RECORDER(element);
  Impl* impl = self->impl;
  const bool video = g_str_equal(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "video");
  guint index = impl->next_audio;
  if (!video && req_name && sscanf(req_name, "audio_%u", &index) != 1)
    index = impl->next_audio;
  const std::string name = video ? "video" : "audio_" + std::to_string(index);
  if (!video && gms::Ref<GstPad>::adopt(gst_element_get_static_pad(element, name.c_str()))) {
    GST_WARNING_OBJECT(self, "pad %s exists", name.c_str());
    return nullptr;
  }
  if (video && gms::Ref<GstPad>::adopt(gst_element_get_static_pad(element, "video"))) {
    GST_WARNING_OBJECT(self, "only one video pad");
    return nullptr;
  }
  if (!ensure_muxer(self))
    return nullptr;

  auto split_pad = gms::Ref<GstPad>::adopt(
      gst_element_request_pad_simple(impl->splitmux.get(), video ? "video" : "audio_%u"));
  if (!split_pad) {
    GST_ERROR_OBJECT(self, "splitmuxsink refused pad %s", name.c_str());
    return nullptr;
  }
  auto queue = gms::Ref<GstElement>::adopt(gst_element_factory_make("queue", nullptr));
  g_object_set(queue.get(), "leaky", 2 /* downstream: drop the oldest */, "max-size-buffers", 0u,
               "max-size-bytes", 0u, "max-size-time", kQueueTime, nullptr);
  gst_bin_add(GST_BIN(self), queue.get());
  auto queue_src = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(queue.get(), "src"));
  auto queue_sink = gms::Ref<GstPad>::adopt(gst_element_get_static_pad(queue.get(), "sink"));
  gst_pad_link(queue_src.get(), split_pad.get());
  gst_element_sync_state_with_parent(queue.get());

  GstPad* ghost = gst_ghost_pad_new_from_template(name.c_str(), queue_sink.get(), templ);
  gst_pad_set_chain_function(ghost, pad_chain);
  gst_pad_set_chain_list_function(ghost, pad_chain_list);
  gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, self, nullptr);
  gst_pad_set_active(ghost, TRUE);
  if (!video)
    impl->next_audio = std::max(impl->next_audio, index + 1);
  impl->pads.emplace(ghost, PadLink{queue, split_pad});
  gst_element_add_pad(element, ghost);
  GST_DEBUG_OBJECT(self, "pad %s -> %s", name.c_str(), GST_PAD_NAME(split_pad.get()));
  return ghost;
}

void release_pad(GstElement* element, GstPad* pad) noexcept {
  Impl* impl = impl_of(element);
  auto it = impl->pads.find(pad);
  if (it == impl->pads.end())
    return;
  PadLink link = std::move(it->second);
  impl->pads.erase(it);
  gst_element_remove_pad(element, pad);
  gst_element_set_locked_state(link.queue.get(), TRUE);
  gst_element_set_state(link.queue.get(), GST_STATE_NULL);
  gst_bin_remove(GST_BIN(element), link.queue.get());
  gst_element_release_request_pad(impl->splitmux.get(), link.split_pad.get());
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
    g_object_set(impl->splitmux.get(), "max-size-time", s.segment_duration, nullptr);
  } else if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    impl->failed.store(false);
    std::lock_guard lock(impl->segments_mutex);
    impl->eos_pads.clear();
  }
  return GST_ELEMENT_CLASS(gms_recorder_parent_class)->change_state(element, transition);
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
      break;
    case PROP_DELETE_AFTER:
      s.retention.delete_after_s = g_value_get_uint64(value);
      break;
    case PROP_MAX_BYTES:
      s.retention.max_bytes = g_value_get_uint64(value);
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
                          "segment opens. Default \"%path/%Y-%m-%d_%H-%M-%S-%f.mp4\" (.mkv/.ts for "
                          "the other formats)",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_enum("format", "Format",
                        "Container: fragmented MP4 (0.5 s fragments), Matroska or MPEG-TS; set "
                        "before pads are requested",
                        GMS_TYPE_RECORDER_FORMAT, GMS_RECORDER_FORMAT_MP4, ready));
  g_object_class_install_property(
      gobject_class, PROP_SEGMENT_DURATION,
      g_param_spec_uint64("segment-duration", "Segment duration",
                          "Start a new file after this much running time (in ns), at the next "
                          "video key frame; 0 = one file",
                          0, G_MAXUINT64, kDefaultSegmentDuration, ready));
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
  Impl* impl = self->impl;
  impl->splitmux = gms::Ref<GstElement>::adopt(gst_element_factory_make("splitmuxsink", nullptr));
  if (!impl->splitmux)
    return;  // NULL->READY reports the missing plugin
  g_object_set(impl->splitmux.get(), "max-size-time", kDefaultSegmentDuration, "max-size-bytes", guint64(0),
               "max-files", 0u, "send-keyframe-requests", TRUE, nullptr);
  impl->location_signal = gms::SignalConnection(impl->splitmux.get(), "format-location-full",
                                                G_CALLBACK(on_format_location), self);
  gst_bin_add(GST_BIN(self), impl->splitmux.get());
}
