#include "record/path_recorder.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <string_view>

#include "core/log.h"
#include "relay/relay_hub.h"

namespace gms::record {

std::string depay_chain(GstCaps* caps, bool& video) {
  if (!caps || gst_caps_is_empty(caps))
    return {};
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const char* enc = gst_structure_get_string(s, "encoding-name");
  const char* media = gst_structure_get_string(s, "media");
  if (!enc)
    return {};
  std::string e = enc;
  for (auto& c : e)
    c = g_ascii_toupper(c);
  video = media && g_str_equal(media, "video");
  if (e == "H264")
    return "rtph264depay ! h264parse";
  if (e == "H265")
    return "rtph265depay ! h265parse";
  if (e == "MPEG4-GENERIC")
    return "rtpmp4gdepay ! aacparse";
  if (e == "MP4A-LATM")
    return "rtpmp4adepay ! aacparse";
  if (e == "OPUS")
    return "rtpopusdepay ! opusparse";
  if (e == "JPEG")
    return "rtpjpegdepay ! jpegparse";
  if (e == "VP8")
    return "rtpvp8depay";
  if (e == "VP9")
    return "rtpvp9depay";
  if (e == "MP4V-ES")
    return "rtpmp4vdepay ! mpeg4videoparse";
  return {};
}

namespace {

// A leftover of a kill -9 with no media in it: empty (killed before the
// muxer wrote anything), or a fragmented MP4 with its header but no
// fragment yet ('moof'; killed in the first quarter second of a segment,
// once the muxer writes its header as soon as every track has data). Only
// small files are read: a segment with media is larger than a header.
bool without_media(const char* file, const GStatBuf& st) {
  constexpr goffset kLargestHeader = 64 * 1024;
  if (!S_ISREG(st.st_mode))
    return false;
  if (st.st_size == 0)
    return true;
  if (st.st_size > kLargestHeader || !g_str_has_suffix(file, ".mp4"))
    return false;
  gchar* data = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(file, &data, &size, nullptr))
    return false;
  // Binary data: not g_strstr_len, which stops at the first NUL byte. Our
  // header (a moov) without a fragment; anything else is left alone.
  const std::string_view bytes(data, size);
  const bool header_only =
      bytes.find("moov") != std::string_view::npos && bytes.find("moof") == std::string_view::npos;
  g_free(data);
  return header_only;
}

}  // namespace

PathRecorder::PathRecorder(std::string path, RecordSettings settings, GMainContext* control)
    : path_(std::move(path)),
      settings_(std::move(settings)),
      control_(Ref<GMainContext>::borrow(control)) {}

PathRecorder::~PathRecorder() { stop(); }

std::string PathRecorder::directory() const {
  return settings_.dir + path_;  // path_ starts with '/'
}

bool PathRecorder::build(const std::vector<std::string>& channels) {
  std::string dir = directory();
  if (g_mkdir_with_parents(dir.c_str(), 0755) != 0) {
    error_ = "cannot create " + dir + ": " + g_strerror(errno);
    return false;
  }
  // A kill -9 right after a segment opened leaves it without media (empty,
  // or a header only): nothing to play, so it goes.
  if (auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr))) {
    while (const char* name = g_dir_read_name(d.get())) {
      GCharPtr file(g_build_filename(dir.c_str(), name, nullptr));
      GStatBuf st;
      if (g_stat(file.get(), &st) == 0 && without_media(file.get(), st))
        g_unlink(file.get());
    }
  }
  GCharPtr qdir(g_strescape(dir.c_str(), nullptr));
  std::string line = "msrecorder name=rec format=" + settings_.format + " path-name=\"" +
                     qdir.get() + "\" segment-duration=" +
                     std::to_string(uint64_t(settings_.segment_seconds) * GST_SECOND) +
                     " delete-after=" + std::to_string(settings_.delete_after) +
                     " max-bytes=" + std::to_string(settings_.max_bytes);
  unsigned audio = 0;
  bool have_video = false;
  for (const auto& ch : channels) {
    auto channel = relay::Hub::instance().find(ch);
    Ref<GstCaps> caps = channel ? channel->state().caps : Ref<GstCaps>();
    bool video = false;
    std::string chain = depay_chain(caps.get(), video);
    if (chain.empty() || (video && have_video)) {
      GMS_LOG_WARN("recording %s: channel %s left out (codec not recordable)", path_.c_str(),
                   ch.c_str());
      continue;
    }
    std::string pad = video ? "video" : "audio_" + std::to_string(audio++);
    have_video |= video;
    // msrelaysrc stamps packets when it sends them (a cached GOP all at
    // once); the files need the source's own timeline: a jitterbuffer in mode
    // none takes the times from the RTP timestamps. Latency 0: the relay is
    // in-process and in order, nothing to wait for (the depayloaders only
    // need packets in order), and whatever a jitterbuffer holds is lost at a
    // kill -9 (500 ms held the first packet half a second). wall-clock-meta:
    // each frame says when it reached the relay, so the first segment, which
    // starts with the cached GOP sent at once, is named when its first
    // frame was live, not when the GOP was sent.
    line += " msrelaysrc channel=\"" + ch +
            "\" timeout=0 from-cache=true wall-clock-meta=true ! rtpjitterbuffer mode=none latency=0 ! " + chain +
            " ! rec." + pad;
  }
  if (!have_video && audio == 0) {
    error_ = "no recordable track";
    return false;
  }
  GErrorPtr err;
  pipeline_ = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  if (!pipeline_ || err) {
    error_ = std::string("cannot build the recorder: ") + (err ? err->message : "?");
    pipeline_.reset();
    return false;
  }
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

void PathRecorder::start(const std::vector<std::string>& channels) {
  if (pipeline_)
    return;
  channels_ = channels;
  retry_.reset();
  if (!build(channels)) {
    fail(error_);
    return;
  }
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fail("the recorder did not start");
    return;
  }
  error_.clear();
  GMS_LOG_INFO("recording %s into %s", path_.c_str(), directory().c_str());
}

void PathRecorder::stop() {
  retry_.reset();
  if (!pipeline_)
    return;
  // EOS closes the open segment properly; fragmented files are playable
  // even without it, so the wait is short.
  gst_element_send_event(pipeline_.get(), gst_event_new_eos());
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  auto msg = Ref<GstMessage>::adopt(gst_bus_timed_pop_filtered(
      bus.get(), 2 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  bus_watch_.reset();
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
  GMS_LOG_INFO("recording %s stopped", path_.c_str());
}

void PathRecorder::fail(const std::string& why) {
  error_ = why;
  bus_watch_.reset();
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
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
        GMS_LOG_DEBUG("recording %s: new segment %s", path_.c_str(), f ? f : "");
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace gms::record
