#include "mounts/fec_lost_guard.h"

#include "gms/ref.h"

namespace gms::mounts {
namespace {

// On the jitterbuffer's thread.
GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer decoder) noexcept {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM ||
      !gst_event_has_name(event, "GstRTPPacketLost"))
    return GST_PAD_PROBE_OK;
  guint pt = 0;
  g_object_get(decoder, "pt", &pt, nullptr);
  return pt == 0 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

}  // namespace

void drop_lost_events_before(GstElement* decoder) {
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(decoder, "sink"));
  if (pad)
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, decoder, nullptr);
}

}  // namespace gms::mounts
