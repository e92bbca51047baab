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

// Puts `sample` back into the appsink's queue the way the appsink's own
// rendering does (queue, wake a waiting pull, new-sample callback), without
// the base sink's clock wait or preroll: the sample was rendered once.
void give_back(GstElement* sink, GstSample* sample) {
  GstBaseSinkClass* klass = GST_BASE_SINK_GET_CLASS(sink);
  GstFlowReturn ret = GST_FLOW_OK;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample); list && klass->render_list)
    ret = klass->render_list(GST_BASE_SINK(sink), list);
  else if (GstBuffer* buffer = gst_sample_get_buffer(sample); buffer && klass->render)
    ret = klass->render(GST_BASE_SINK(sink), buffer);
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
  auto held = Ref<GstSample>::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0));
  if (!held)
    return GST_PAD_PROBE_OK;  // nothing for the flush to drop
  t_forwarding = true;
  gst_pad_send_event(pad, gst_event_ref(event));
  t_forwarding = false;
  give_back(GST_ELEMENT(sink), held.get());
  // Already delivered above; the sender is told it went through.
  return GST_PAD_PROBE_DROP;
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer) noexcept {
  if (!GST_IS_APP_SINK(element))
    return;
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(element, "sink"));
  if (pad)
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_FLUSH, on_flush, element, nullptr);
}

}  // namespace

void keep_tcp_samples_across_flushes(GstRTSPMedia* media) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  if (pipeline && GST_IS_BIN(pipeline.get()))
    g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(on_element_added), nullptr);
}

}  // namespace gms
