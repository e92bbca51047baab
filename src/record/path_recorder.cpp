#include "record/path_recorder.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "record/confined_dir.h"
#include "core/log.h"
#include "record/audio_timeline.h"
#include "record/frame_cap.h"
#include "record/unit_filter.h"

namespace gms {

const char* state_name(RecordingStatus::State s) {
  switch (s) {
    case RecordingStatus::State::kRecording:
      return "recording";
    case RecordingStatus::State::kError:
      return "error";
    case RecordingStatus::State::kStopped:
      break;
  }
  return "stopped";
}

}  // namespace gms

namespace gms::record {

std::string depay_chain(GstCaps* caps, bool& video, std::string* parsed) {
  if (!caps || gst_caps_is_empty(caps))
    return {};
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const char* enc = gst_structure_get_string(s, "encoding-name");
  const char* media = gst_structure_get_string(s, "media");
  // A static payload type announced without an rtpmap (ffmpeg's MP3 is
  // "m=audio 0 RTP/AVP 14" alone) has caps with no encoding name; these
  // depayloaders take it by its number.
  int pt = -1;
  if (!enc && gst_structure_get_int(s, "payload", &pt))
    enc = pt == 14 ? "MPA" : pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : nullptr;
  if (!enc)
    return {};
  struct Codec {
    const char* encoding;
    const char* chain;
    const char* parsed;  // what the chain gives, for the muxer
  };
  static const Codec codecs[] = {
      {"H264", "rtph264depay ! h264parse", "video/x-h264"},
      {"H265", "rtph265depay ! h265parse", "video/x-h265"},
      {"MPEG4-GENERIC", "rtpmp4gdepay ! aacparse", "audio/mpeg, mpegversion=(int)4"},
      {"MP4A-LATM", "rtpmp4adepay ! aacparse", "audio/mpeg, mpegversion=(int)4"},
      {"OPUS", "rtpopusdepay ! opusparse", "audio/x-opus"},
      {"JPEG", "rtpjpegdepay ! jpegparse", "image/jpeg"},
      {"VP8", "rtpvp8depay", "video/x-vp8"},
      {"VP9", "rtpvp9depay", "video/x-vp9"},
      {"MP4V-ES", "rtpmp4vdepay ! mpeg4videoparse", "video/mpeg, mpegversion=(int)4"},
      {"PCMU", "rtppcmudepay", "audio/x-mulaw"},
      {"PCMA", "rtppcmadepay", "audio/x-alaw"},
      {"MPA", "rtpmpadepay ! mpegaudioparse", "audio/mpeg, mpegversion=(int)1"},
      {"AC3", "rtpac3depay ! ac3parse", "audio/x-ac3"},
  };
  video = media && g_str_equal(media, "video");
  for (const auto& c : codecs)
    if (g_ascii_strcasecmp(enc, c.encoding) == 0) {
      if (parsed)
        *parsed = c.parsed;
      return c.chain;
    }
  return {};
}

bool format_takes(const std::string& format, const std::string& parsed) {
  const char* muxer = format == "mkv" ? "matroskamux" : format == "mpegts" ? "mpegtsmux" : "mp4mux";
  auto factory = Ref<GstElementFactory>::adopt(gst_element_factory_find(muxer));
  auto caps = Ref<GstCaps>::adopt(gst_caps_from_string(parsed.c_str()));
  return factory && caps && gst_element_factory_can_sink_any_caps(factory.get(), caps.get());
}

namespace {

std::string encoding_name(GstCaps* caps) {
  const char* enc = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
  return enc ? enc : "";
}

// The packets come stamped with their capture times, and those of the
// cached GOP are from before the pipeline started: its running time starts
// this far in so that they stay positive (see msrelaysrc capture-times).
constexpr GstClockTime kRunningTimeAtStart = 30 * GST_SECOND;

void start_in_the_past(GstElement* pipeline) {
  auto clock = Ref<GstClock>::adopt(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock.get());
  gst_element_set_start_time(pipeline, GST_CLOCK_TIME_NONE);
  gst_element_set_base_time(pipeline, gst_clock_get_time(clock.get()) - kRunningTimeAtStart);
}

// Whether an MP4 has a media box (mdat) among its top-level boxes: a
// fragmented one without is a header with no frame.
bool mp4_has_media(const char* path) {
  UniquePtr<FILE, fclose> f(fopen(path, "rb"));
  if (!f)
    return true;  // unreadable: not ours to judge
  for (int boxes = 0; boxes < 64; ++boxes) {
    unsigned char head[16];
    if (fread(head, 1, 8, f.get()) != 8)
      return false;
    uint64_t size = (uint64_t(head[0]) << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
    if (memcmp(head + 4, "mdat", 4) == 0)
      return true;
    uint64_t header = 8;
    if (size == 1) {  // a 64-bit size follows
      if (fread(head + 8, 1, 8, f.get()) != 8)
        return false;
      size = 0;
      for (int i = 8; i < 16; ++i)
        size = (size << 8) | head[i];
      header = 16;
    }
    if (size < header || fseeko(f.get(), off_t(size - header), SEEK_CUR) != 0)
      return false;
  }
  return true;  // many boxes: not a bare header
}

// A closed segment's size joins the path's bytes written: asked of the file
// system in GIO's worker threads (a slow disk must not hold the control
// context), the answer comes back on the caller's thread-default context.
void count_written(const std::shared_ptr<RecordingStatus>& status, const char* file) {
  auto f = Ref<GFile>::adopt(g_file_new_for_path(file));
  g_file_query_info_async(
      f.get(), G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, G_PRIORITY_LOW, nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) noexcept {
        std::unique_ptr<std::shared_ptr<RecordingStatus>> st(
            static_cast<std::shared_ptr<RecordingStatus>*>(data));
        auto info = Ref<GFileInfo>::adopt(g_file_query_info_finish(G_FILE(src), res, nullptr));
        if (info)
          (*st)->bytes_written += uint64_t(g_file_info_get_size(info.get()));
      },
      new std::shared_ptr<RecordingStatus>(status));
}

}  // namespace

PathRecorder::PathRecorder(std::string path, RecordSettings settings, GMainContext* control,
                           std::shared_ptr<RecordingStatus> status)
    : path_(std::move(path)),
      settings_(std::move(settings)),
      root_resolved_(resolved_dir(settings_.dir)),
      control_(Ref<GMainContext>::borrow(control)),
      status_(status ? std::move(status) : std::make_shared<RecordingStatus>()),
      input_drops_(std::make_shared<InputDrops>()),
      fold_(std::make_shared<CoalescedCall>(control, [this] { fold_input_drops(); })),
      oversized_before_(status_->oversized_frames),
      refused_before_(status_->refused_packets) {
  input_drops_->changed = CoalescedCall::asker(fold_);
}

void PathRecorder::fold_input_drops() {
  status_->oversized_frames = oversized_before_ + input_drops_->oversized_frames.load();
  status_->refused_packets = refused_before_ + input_drops_->refused_packets.load();
}

PathRecorder::~PathRecorder() { stop(); }

std::string PathRecorder::directory() const {
  return settings_.dir + path_;  // path_ starts with '/'
}

bool PathRecorder::build(bool& lasting) {
  std::string dir = directory();
  if (std::string why; !make_dir_inside(dir, settings_.dir, root_resolved_, why)) {
    error_ = why;
    return false;
  }
  // A kill -9 right after a segment opened leaves it empty, or with only
  // its header (its first fragment not written yet): nothing to play, so it
  // goes.
  if (auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr))) {
    while (const char* name = g_dir_read_name(d.get())) {
      GCharPtr file(g_build_filename(dir.c_str(), name, nullptr));
      GStatBuf st;
      if (g_stat(file.get(), &st) == 0 && S_ISREG(st.st_mode) &&
          (st.st_size == 0 || (g_str_has_suffix(name, ".mp4") && !mp4_has_media(file.get()))))
        g_unlink(file.get());
    }
  }
  GCharPtr qdir(g_strescape(dir.c_str(), nullptr));
  std::string line = "msrecorder name=rec format=" + settings_.format + " path-name=\"" +
                     qdir.get() + "\" segment-duration=" +
                     std::to_string(uint64_t(settings_.segment_seconds) * GST_SECOND) +
                     " delete-after=" + std::to_string(settings_.delete_after) +
                     " max-bytes=" + std::to_string(settings_.max_bytes);
  GCharPtr qroot(g_strescape(settings_.dir.c_str(), nullptr));
  line += std::string(" confine-to=\"") + qroot.get() + "\"";
  unsigned audio = 0;
  bool have_video = false;
  std::string video_encoding;  // its RTP encoding name
  std::string left_out;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const std::string& ch = channels_[i];
    GstCaps* caps = i < caps_.size() ? caps_[i].get() : nullptr;
    bool video = false;
    std::string parsed;
    std::string chain = depay_chain(caps, video, &parsed);
    // An MPEG-TS file has no header to keep the stream's parameter sets:
    // a publisher that sent them only in its SDP (ffmpeg does) would leave
    // every segment after the first undecodable. The parser repeats them
    // before each key frame, in whole access units: the recorder cuts at
    // a buffer that is not a delta unit, and with one NAL per buffer that
    // can be a parameter set rather than the key frame itself.
    if (settings_.format == "mpegts" && chain.ends_with("parse") &&
        (parsed == "video/x-h264" || parsed == "video/x-h265"))
      chain += " config-interval=-1 ! " + parsed + ",stream-format=byte-stream,alignment=au";
    std::string why;
    if (!caps) {
      why = "it sent nothing within track-wait";
    } else if (chain.empty()) {
      why = "its codec cannot be recorded";
    } else if (video && have_video) {
      why = "one video track per recording";
    } else if (!format_takes(settings_.format, parsed)) {
      why = parsed.substr(0, parsed.find(',')) + " cannot go into " + settings_.format + " files" +
            (format_takes("mkv", parsed) ? " (record-format=mkv takes it)" : "");
    }
    if (!why.empty()) {
      GMS_LOG_WARN("recording %s: channel %s left out: %s", path_.c_str(), ch.c_str(), why.c_str());
      left_out += (left_out.empty() ? "" : "; ") + why;
      continue;
    }
    std::string pad = video ? "video" : "audio_" + std::to_string(audio++);
    have_video |= video;
    if (video)
      video_encoding = encoding_name(caps);
    // The files need the source's own timeline, the same for every track:
    // capture-times stamps each packet with when the source captured it,
    // as the source's pipeline timed it (a payloader: the frame's capture
    // time; a receiving rtpbin: arrival, brought in step across tracks by
    // the sender's RTCP reports). (A jitterbuffer per track, timing it from
    // its own first packet, put the audio off the video for good: by up to
    // a GOP in mode none, a reader getting the video from the cached key
    // frame and the audio from its last packet; by 0.1 s in mode synced, the
    // skew of a publisher's first burst.) No jitterbuffer: the relay is
    // in-process and in order, and what one holds is lost at a kill -9.
    // wall-clock-meta: each frame carries its capture's wall clock, so the
    // first segment, which starts with the cached GOP sent at once, is named
    // when its first frame was live, not when the GOP was sent.
    // An audio track's packets are placed by their RTP times (see
    // AudioTimeline): its source is named after its pad.
    line += " msrelaysrc channel=\"" + ch + "\" name=" + (video ? "video_src" : pad) +
            " timeout=0 from-cache=true capture-times=true wall-clock-meta=true ! " + chain +
            " ! rec." + pad;
  }
  if (!have_video && audio == 0) {
    error_ = "no track can be recorded" + (left_out.empty() ? "" : ": " + left_out);
    lasting = true;  // the same tracks would give the same answer
    return false;
  }
  GErrorPtr err;
  pipeline_ = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  if (!pipeline_ || err) {
    error_ = std::string("cannot build the recorder: ") + (err ? err->message : "?");
    pipeline_.reset();
    return false;
  }
  for (unsigned i = 0; i <= audio; ++i) {
    // i == audio: the video's source, if any.
    auto source = Ref<GstElement>::adopt(gst_bin_get_by_name(
        GST_BIN(pipeline_.get()), (i < audio ? "audio_" + std::to_string(i) : "video_src").c_str()));
    auto src = source ? Ref<GstPad>::adopt(gst_element_get_static_pad(source.get(), "src")) : Ref<GstPad>();
    if (src && i < audio)
      keep_audio_in_time(src.get());
    if (src)
      cap_frames(src.get(), path_, input_drops_);
    if (src && i == audio)
      drop_refused_units(src.get(), video_encoding, path_, input_drops_);
  }
  start_in_the_past(pipeline_.get());
  dropped_before_ = status_->dropped_buffers;
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(
      watch,
      G_SOURCE_FUNC(+[](GstBus*, GstMessage* msg, gpointer self) noexcept -> gboolean {
        static_cast<PathRecorder*>(self)->on_message(msg);
        return G_SOURCE_CONTINUE;
      }),
      this, nullptr);
  bus_watch_ = SourceHolder(watch);
  g_source_attach(watch, control_.get());
  return true;
}

void PathRecorder::start(const std::vector<std::string>& channels, std::vector<Ref<GstCaps>> caps) {
  if (pipeline_ || watcher_)
    return;
  channels_ = channels;
  retry_.reset();
  bool known = caps.size() == channels.size() &&
               std::all_of(caps.begin(), caps.end(), [](const auto& c) { return bool(c); });
  if (known) {
    caps_ = std::move(caps);
    record_now();
    return;
  }
  watch_caps();
}

void PathRecorder::watch_caps() {
  caps_.assign(channels_.size(), Ref<GstCaps>());
  std::string line;
  for (size_t i = 0; i < channels_.size(); ++i)
    line += "msrelaysrc name=w" + std::to_string(i) + " channel=\"" + channels_[i] +
            "\" timeout=0 from-cache=true ! fakesink sync=false async=false ";
  GErrorPtr err;
  watcher_ = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  if (!watcher_ || err) {
    watcher_.reset();
    fail(std::string("cannot read the relay: ") + (err ? err->message : "?"));
    return;
  }
  // A channel's caps reach its pad with its first packet (msrelaysrc sets
  // them then); they are posted to the bus, read on the control context.
  for (size_t i = 0; i < channels_.size(); ++i) {
    auto src = Ref<GstElement>::adopt(
        gst_bin_get_by_name(GST_BIN(watcher_.get()), ("w" + std::to_string(i)).c_str()));
    auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(src.get(), "src"));
    gst_pad_add_probe(
        pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        +[](GstPad* pad, GstPadProbeInfo* info, gpointer index) noexcept -> GstPadProbeReturn {
          GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
          if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS)
            return GST_PAD_PROBE_OK;
          GstCaps* caps = nullptr;
          gst_event_parse_caps(ev, &caps);
          auto parent = Ref<GstElement>::adopt(gst_pad_get_parent_element(pad));
          if (parent)
            gst_element_post_message(
                parent.get(),
                gst_message_new_element(
                    GST_OBJECT(parent.get()),
                    gst_structure_new("gms-recorder-caps", "index", G_TYPE_UINT,
                                      GPOINTER_TO_UINT(index), "caps", GST_TYPE_CAPS, caps,
                                      nullptr)));
          return GST_PAD_PROBE_OK;
        },
        GUINT_TO_POINTER(i), nullptr);
  }
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(watcher_.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(
      watch,
      G_SOURCE_FUNC(+[](GstBus*, GstMessage* msg, gpointer self) noexcept -> gboolean {
        static_cast<PathRecorder*>(self)->on_watch_message(msg);
        return G_SOURCE_CONTINUE;
      }),
      this, nullptr);
  watcher_bus_ = SourceHolder(watch);
  g_source_attach(watch, control_.get());
  gst_element_set_state(watcher_.get(), GST_STATE_PLAYING);
  GMS_LOG_DEBUG("recording %s: waiting for the tracks' first packets", path_.c_str());
}

void PathRecorder::on_watch_message(GstMessage* msg) {
  const GstStructure* s = gst_message_get_structure(msg);
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT || !s ||
      !gst_structure_has_name(s, "gms-recorder-caps"))
    return;
  guint index = 0;
  GstCaps* caps = nullptr;
  if (!gst_structure_get_uint(s, "index", &index) || index >= caps_.size() ||
      !gst_structure_get(s, "caps", GST_TYPE_CAPS, &caps, nullptr))
    return;
  caps_[index] = Ref<GstCaps>::adopt(caps);
  if (std::all_of(caps_.begin(), caps_.end(), [](const auto& c) { return bool(c); })) {
    record_now();
    return;
  }
  if (track_wait_.get())
    return;
  GSource* t = g_timeout_source_new(static_cast<guint>(settings_.track_wait.count()));
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<PathRecorder*>(self);
        r->track_wait_ = SourceHolder();
        r->record_now();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  track_wait_ = SourceHolder(t);
  g_source_attach(t, control_.get());
}

void PathRecorder::record_now() {
  track_wait_.reset();
  watcher_bus_.reset();
  if (watcher_) {
    gst_element_set_state(watcher_.get(), GST_STATE_NULL);
    watcher_.reset();
  }
  bool lasting = false;
  if (!build(lasting)) {
    fail(error_, !lasting);
    return;
  }
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fail("the recorder did not start");
    return;
  }
  error_.clear();
  // Recording again (after a retry too); the last error stays visible.
  status_->state = RecordingStatus::State::kRecording;
  GMS_LOG_INFO("recording %s into %s", path_.c_str(), directory().c_str());
}

void PathRecorder::stop() {
  fold_input_drops();
  retry_.reset();
  track_wait_.reset();
  watcher_bus_.reset();
  if (watcher_) {
    gst_element_set_state(watcher_.get(), GST_STATE_NULL);
    watcher_.reset();
  }
  status_->state = RecordingStatus::State::kStopped;
  status_->current_segment.clear();
  if (!pipeline_)
    return;
  // EOS closes the open segment properly; fragmented files are playable
  // even without it, so the wait is short.
  gst_element_send_event(pipeline_.get(), gst_event_new_eos());
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  // The last segment's "closed" comes before the EOS: its subscribers hear
  // of it too.
  const gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  for (gint64 left; (left = deadline - g_get_monotonic_time()) > 0;) {
    auto msg = Ref<GstMessage>::adopt(gst_bus_timed_pop_filtered(
        bus.get(), GstClockTime(left) * GST_USECOND,
        GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT)));
    if (!msg || GST_MESSAGE_TYPE(msg.get()) != GST_MESSAGE_ELEMENT)
      break;
    const GstStructure* s = gst_message_get_structure(msg.get());
    if (s && gst_structure_has_name(s, "msrecorder-segment-closed"))
      segment_closed(gst_structure_get_string(s, "location"));
  }
  bus_watch_.reset();
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
  GMS_LOG_INFO("recording %s stopped", path_.c_str());
}

void PathRecorder::fail(const std::string& why, bool retry) {
  const bool repeated = status_->state == RecordingStatus::State::kError && status_->last_error == why;
  error_ = why;
  status_->state = RecordingStatus::State::kError;
  status_->last_error = why;
  status_->last_error_us = g_get_real_time();
  status_->errors++;
  status_->current_segment.clear();
  bus_watch_.reset();
  track_wait_.reset();
  watcher_bus_.reset();
  if (watcher_) {
    gst_element_set_state(watcher_.get(), GST_STATE_NULL);
    watcher_.reset();
  }
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
  if (!retry) {
    GMS_LOG_ERROR("recording %s: %s", path_.c_str(), why.c_str());
    return;
  }
  // A retry that fails the same way says nothing new: logged once, the
  // API's error count goes on.
  if (repeated)
    GMS_LOG_DEBUG("recording %s: still %s; trying again in %lld s", path_.c_str(), why.c_str(),
                  static_cast<long long>(settings_.retry.count()));
  else
    GMS_LOG_ERROR("recording %s stopped: %s; trying again in %lld s", path_.c_str(), why.c_str(),
                  static_cast<long long>(settings_.retry.count()));
  GSource* t = g_timeout_source_new_seconds(static_cast<guint>(settings_.retry.count()));
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<PathRecorder*>(self);
        r->retry_ = SourceHolder();
        r->start(r->channels_);
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  retry_ = SourceHolder(t);
  g_source_attach(t, control_.get());
}

void PathRecorder::segment_closed(const char* file) {
  status_->segments++;
  if (file && *file)
    count_written(status_, file);
  if (segment_closed_)
    segment_closed_(file ? file : "");
}

void PathRecorder::dropped(uint64_t total) {
  status_->dropped_buffers = std::max(status_->dropped_buffers, dropped_before_ + total);
  const gint64 now = g_get_monotonic_time();
  if (dropped_logged_us_ && now - dropped_logged_us_ < 10 * G_USEC_PER_SEC)
    return;
  dropped_logged_us_ = now;
  GMS_LOG_WARN("recording %s: the disk is too slow, %llu buffers not recorded so far", path_.c_str(),
               static_cast<unsigned long long>(status_->dropped_buffers));
}

void PathRecorder::on_message(GstMessage* msg) {
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GErrorPtr err;
      gst_message_parse_error(msg, out(err), nullptr);
      fail(err ? err->message : "error");
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      if (!s)
        break;
      if (gst_structure_has_name(s, "msrecorder-error")) {
        const char* why = gst_structure_get_string(s, "message");
        GCharPtr text(gst_structure_to_string(s));
        fail(why ? why : text.get());
      } else if (gst_structure_has_name(s, "msrecorder-segment-opened")) {
        const char* f = gst_structure_get_string(s, "location");
        status_->current_segment = f ? f : "";
        GMS_LOG_DEBUG("recording %s: new segment %s", path_.c_str(), f ? f : "");
      } else if (gst_structure_has_name(s, "msrecorder-segment-closed")) {
        segment_closed(gst_structure_get_string(s, "location"));
      } else if (guint64 n = 0; gst_structure_has_name(s, "msrecorder-dropped") &&
                                gst_structure_get_uint64(s, "buffers", &n)) {
        dropped(n);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace gms::record
