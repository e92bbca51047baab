#include "core/flush_keeper.h"

#include <gst/app/gstappsink.h>
#include <gst/base/gstbasesink.h>

#include "core/log.h"
#include "gms/ref.h"

namespace gms {
namespace {

// Set on the thread that hands a FLUSH_STOP on to the appsink from inside
// the probe, so that the probe lets that one through.
thread_local bool t_forwarding = false;

gboolean clear_time(GstBuffer** buffer, guint, gpointer) noexcept {
  *buffer = gst_buffer_make_writable(*buffer);
  GST_BUFFER_PTS(*buffer) = GST_BUFFER_DTS(*buffer) = GST_CLOCK_TIME_NONE;
  return TRUE;
}

// A copy of what `sample` carries, without timestamps: the library asserts
// that the RTP a viewer's backlog holds never goes back in time (from its
// first RTP item with a time), and after a seek back this older position's
// sample would be later than the samples queued behind it. The packets' own
// RTP timestamps are not touched.
struct Kept {
  Ref<GstBufferList> list;
  Ref<GstBuffer> buffer;
};
Kept untimed_copy(GstSample* sample) {
  Kept k;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    k.list = Ref<GstBufferList>::adopt(gst_buffer_list_copy(list));
    gst_buffer_list_foreach(k.list.get(), clear_time, nullptr);
  } else if (GstBuffer* buffer = gst_sample_get_buffer(sample)) {
    k.buffer = Ref<GstBuffer>::adopt(gst_buffer_copy(buffer));
    GST_BUFFER_PTS(k.buffer.get()) = GST_BUFFER_DTS(k.buffer.get()) = GST_CLOCK_TIME_NONE;
  }
  return k;
}

// Puts the kept data back into the appsink's queue the way the appsink's
// own rendering does (queue, wake a waiting pull, new-sample callback),
// without the base sink's clock wait or preroll: it was rendered once.
// No reference to the pulled sample may be held here: appsink 1.22.0 sets
// the caps of its own sample (the one it handed out) in place.
void give_back(GstElement* sink, const Kept& k) {
  GstBaseSinkClass* klass = GST_BASE_SINK_GET_CLASS(sink);
  GstFlowReturn ret = GST_FLOW_OK;
  if (k.list && klass->render_list)
    ret = klass->render_list(GST_BASE_SINK(sink), k.list.get());
  else if (k.buffer && klass->render)
    ret = klass->render(GST_BASE_SINK(sink), k.buffer.get());
  if (ret != GST_FLOW_OK)
    GMS_LOG_DEBUG("TCP appsink %s refused the sample kept across a flush: %s",
                  GST_OBJECT_NAME(sink), gst_flow_get_name(ret));
}

// The appsink's sink pad, on the thread that sends the FLUSH_STOP down
// (the seeking thread; nothing upstream restarts before it returns, so no
// rendering races the sample given back).
GstPadProbeReturn on_flush(GstPad* pad, GstPadProbeInfo* info, gpointer sink) noexcept {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!event || GST_EVENT_TYPE(event) != GST_EVENT_FLUSH_STOP || t_forwarding)
    return GST_PAD_PROBE_OK;
  // Timeout 0: only what is queued, never a wait.
  Kept kept;
  {
    auto held = Ref<GstSample>::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0));
    if (!held)
      return GST_PAD_PROBE_OK;  // nothing for the flush to drop
    kept = untimed_copy(held.get());
  }
  t_forwarding = true;
  gst_pad_send_event(pad, gst_event_ref(event));
  t_forwarding = false;
  give_back(GST_ELEMENT(sink), kept);
  // Already delivered above; the sender is told it went through.
  return GST_PAD_PROBE_DROP;
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer) noexcept {
  if (GST_IS_APP_SINK(element))
    keep_sample_across_flushes(element);
}

}  // namespace

void keep_sample_across_flushes(GstElement* appsink) {
  // The probe goes with the pad, which the appsink owns: `appsink` outlives it.
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(appsink, "sink"));
  if (pad)
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_FLUSH, on_flush, appsink, nullptr);
}

void keep_tcp_samples_across_flushes(GstRTSPMedia* media) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  if (pipeline && GST_IS_BIN(pipeline.get()))
    g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(on_element_added), nullptr);
}

}  // namespace gms
