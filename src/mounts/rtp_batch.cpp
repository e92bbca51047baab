#include "mounts/rtp_batch.h"

#include <mutex>

#include "gms/ref.h"

namespace gms::mounts {
namespace {

struct Batch {
  std::mutex lock;  // protects held, first; a leaf lock (never held while pushing)
  Ref<GstBufferList> held;
  GstClockTime first = GST_CLOCK_TIME_NONE;  // PTS of the first held packet
};

// Set on the streaming thread while it pushes a batch through the pad whose
// probe made it: that push is let through.
thread_local bool t_pushing = false;

Ref<GstBufferList> take(Batch& b) {
  std::lock_guard<std::mutex> g(b.lock);
  b.first = GST_CLOCK_TIME_NONE;
  return std::move(b.held);
}

GstFlowReturn push(GstPad* pad, Ref<GstBufferList> list) {
  if (!list || gst_buffer_list_length(list.get()) == 0)
    return GST_FLOW_OK;
  t_pushing = true;
  GstFlowReturn ret = gst_pad_push_list(pad, list.release());
  t_pushing = false;
  return ret;
}

// Adds `buffer` (a ref is taken); returns the batch to send before it, if
// the span is reached.
Ref<GstBufferList> add(Batch& b, GstBuffer* buffer) {
  std::lock_guard<std::mutex> g(b.lock);
  Ref<GstBufferList> ready;
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  // Without times there is no span to measure: each goes with the next.
  if (b.held && (!GST_CLOCK_TIME_IS_VALID(pts) || !GST_CLOCK_TIME_IS_VALID(b.first) ||
                 pts < b.first || pts - b.first >= kRtpBatchSpan))
    ready = std::move(b.held);
  if (!b.held) {
    b.held = Ref<GstBufferList>::adopt(gst_buffer_list_new());
    b.first = pts;
  }
  gst_buffer_list_add(b.held.get(), gst_buffer_ref(buffer));
  return ready;
}

GstPadProbeReturn on_data(GstPad* pad, GstPadProbeInfo* info, Batch& b) {
  Ref<GstBufferList> ready;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    ready = add(b, GST_PAD_PROBE_INFO_BUFFER(info));
  } else {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i) {
      Ref<GstBufferList> r = add(b, gst_buffer_list_get(list, i));
      if (r && ready) {
        // The span passed twice within one list: send the first part now.
        GstFlowReturn ret = push(pad, std::move(ready));
        if (ret != GST_FLOW_OK) {
          GST_PAD_PROBE_INFO_FLOW_RETURN(info) = ret;
          return GST_PAD_PROBE_HANDLED;
        }
      }
      if (r)
        ready = std::move(r);
    }
  }
  // HANDLED: the probe owns the data (gst_pad_push gives it up) and says
  // how the push went, so upstream still hears of a flush or an error.
  gst_mini_object_unref(GST_MINI_OBJECT(GST_PAD_PROBE_INFO_DATA(info)));
  GST_PAD_PROBE_INFO_DATA(info) = nullptr;
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = push(pad, std::move(ready));
  return GST_PAD_PROBE_HANDLED;
}

// Streaming thread for data and serialized events; any thread for a flush.
GstPadProbeReturn on_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& b = *static_cast<Batch*>(data);
  if (t_pushing)
    return GST_PAD_PROBE_OK;
  if (GST_PAD_PROBE_INFO_TYPE(info) & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST))
    return on_data(pad, info, b);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START ||
      GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    take(b);  // stale after a seek
    return GST_PAD_PROBE_OK;
  }
  if (!(gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED))
    return GST_PAD_PROBE_OK;
  // What is held goes first, under the segment and caps it came with. A
  // sticky event (segment, caps, end of stream) is already stored on the
  // pad when its probes run: pushed through the pad, the batch would go
  // after it (or be refused after an end of stream), so it goes straight
  // to the peer, which has not seen the event yet.
  Ref<GstBufferList> held = take(b);
  auto peer = Ref<GstPad>::adopt(gst_pad_get_peer(pad));
  if (held && gst_buffer_list_length(held.get()) > 0 && peer)
    gst_pad_chain_list(peer.get(), held.release());
  return GST_PAD_PROBE_OK;
}

}  // namespace

void batch_rtp(GstElement* payloader) {
  auto src = Ref<GstPad>::adopt(gst_element_get_static_pad(payloader, "src"));
  if (!src)
    return;
  gst_pad_add_probe(src.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                    GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    on_probe, new Batch(), [](gpointer p) { delete static_cast<Batch*>(p); });
}

}  // namespace gms::mounts
