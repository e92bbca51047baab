#include "queue_drops.h"

namespace gms {
namespace {

uint64_t buffers_of(GstPadProbeInfo* info) {
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    return gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  return 1;
}

}  // namespace

void QueueDrops::attach(GstElement* queue) {
  const auto data = GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);
  GstPad* sink = gst_element_get_static_pad(queue, "sink");
  GstPad* src = gst_element_get_static_pad(queue, "src");
  gst_pad_add_probe(sink, data, count_in, this, nullptr);
  gst_pad_add_probe(src, data, count_out, this, nullptr);
  gst_object_unref(sink);
  gst_object_unref(src);
}

GstPadProbeReturn QueueDrops::count_in(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept {
  auto* d = static_cast<QueueDrops*>(self);
  const uint64_t n = buffers_of(info);
  d->pushing_.store(n, std::memory_order_relaxed);
  d->in_.fetch_add(n, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn QueueDrops::count_out(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept {
  static_cast<QueueDrops*>(self)->out_.fetch_add(buffers_of(info), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

uint64_t QueueDrops::newly_dropped(GstElement* queue) {
  guint level = 0;
  g_object_get(queue, "current-level-buffers", &level, nullptr);
  const uint64_t in = in_.load(std::memory_order_relaxed) - pushing_.load(std::memory_order_relaxed);
  const uint64_t gone = out_.load(std::memory_order_relaxed) + level;
  const uint64_t dropped = in > gone ? in - gone : 0;
  if (dropped <= reported_)
    return 0;
  const uint64_t fresh = dropped - reported_;
  reported_ = dropped;
  return fresh;
}

}  // namespace gms
