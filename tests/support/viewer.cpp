#include "viewer.h"

#include <gst/video/video.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

namespace gms::test {

Viewer::Viewer(const std::string& url, const std::string& protocols) : protocols_(protocols) {
  pipeline_ = Ref<GstElement>::adopt(gst_pipeline_new(nullptr));
  GstElement* dec = gst_element_factory_make("uridecodebin", nullptr);
  g_object_set(dec, "uri", url.c_str(), nullptr);
  g_signal_connect(dec, "source-setup", G_CALLBACK(on_source_setup), this);
  g_signal_connect(dec, "pad-added", G_CALLBACK(on_pad_added), this);
  gst_bin_add(GST_BIN(pipeline_.get()), dec);
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus, this);
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

Viewer::~Viewer() {
  // Stop the streaming threads before the callbacks' `this` goes away.
  // Bounded: 1.22's rtpjitterbuffer can deadlock at the end of a stream
  // (seen under ASan and load: its thread waits for ever, and stopping the
  // pipeline waits for that thread); the test would hang until meson's
  // time-out instead of failing.
  std::promise<void> stopped;
  std::future<void> done = stopped.get_future();
  std::thread stopper([&] {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    stopped.set_value();
  });
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    std::fprintf(stderr,
                 "\nViewer: its pipeline (rtspsrc) did not stop within 20 s (%s): a deadlock in "
                 "the test's own client; aborting\n",
                 state().c_str());
    std::fflush(stderr);
    std::abort();
  }
  stopper.join();
  g_source_remove(bus_watch_);
}

std::string Viewer::error() const {
  std::lock_guard<std::mutex> g(lock_);
  return error_;
}

void Viewer::on_source_setup(GstElement*, GstElement* src, gpointer data) noexcept {
  auto* self = static_cast<Viewer*>(data);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(src), "protocols")) {
    gst_util_set_object_arg(G_OBJECT(src), "protocols", self->protocols_.c_str());
    // A first DESCRIBE of a file probes it: give a loaded machine time.
    g_object_set(src, "latency", 100u, "tcp-timeout", G_GUINT64_CONSTANT(20000000), nullptr);
  }
}

void Viewer::on_pad_added(GstElement*, GstPad* pad, gpointer data) noexcept {
  auto* self = static_cast<Viewer*>(data);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(self->pipeline_.get()), sink);
  gst_element_sync_state_with_parent(sink);
  auto sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_link(pad, sinkpad.get());
  gst_pad_add_probe(sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_buffer, self, nullptr);
  gst_pad_add_probe(sinkpad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, self, nullptr);
  self->outputs_++;
}

GstPadProbeReturn Viewer::on_event(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
    static_cast<Viewer*>(data)->outputs_eos_++;
  return GST_PAD_PROBE_OK;
}

std::string Viewer::state() const {
  return std::to_string(outputs_) + " decoded outputs (" + std::to_string(outputs_eos_) +
         " at EOS), " + std::to_string(video_frames_) + " video frames, " +
         std::to_string(audio_buffers_) + " audio buffers, EOS message " +
         (eos_ ? "yes" : "no") + ", error '" + error() + "'";
}

GstPadProbeReturn Viewer::on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* self = static_cast<Viewer*>(data);
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  if (!caps)
    return GST_PAD_PROBE_OK;
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  if (g_str_has_prefix(gst_structure_get_name(s), "video/")) {
    int w = 0, h = 0;
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
    self->width_ = w;
    self->height_ = h;
    GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
    GstClockTime last = self->last_pts_;
    if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(last) && pts < last)
      self->pts_back_ = true;
    if (GST_CLOCK_TIME_IS_VALID(pts))
      self->last_pts_ = pts;
    self->video_frames_++;
  } else {
    self->audio_buffers_++;
  }
  return GST_PAD_PROBE_OK;
}

gboolean Viewer::on_bus(GstBus*, GstMessage* msg, gpointer data) noexcept {
  auto* self = static_cast<Viewer*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GErrorPtr err;
    GCharPtr debug;
    gst_message_parse_error(msg, out(err), out(debug));
    std::lock_guard<std::mutex> g(self->lock_);
    if (self->error_.empty()) {
      // The debug text says which step failed ("Could not receive message").
      self->error_ = err ? err->message : "error";
      if (debug)
        self->error_ += std::string(" (") + debug.get() + ")";
    }
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    self->eos_ = true;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace gms::test
