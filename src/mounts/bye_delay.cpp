#include "mounts/bye_delay.h"

#include <atomic>
#include <memory>

#include "gms/ref.h"

GST_DEBUG_CATEGORY_STATIC(gms_bye_debug);
#define GST_CAT_DEFAULT gms_bye_debug

namespace gms::mounts {
namespace {

// Held after the payloader (a parser or payloader before it sends its last
// frame only at EOS). A src pad that dropped its EOS in a probe is flagged
// EOS all the same, so the held EOS is sent later into its peer, rtpbin's
// sink pad, which never saw the first one.
struct Hold {
  std::atomic<unsigned> generation{0};  // flushes seen
  std::atomic<guint32> own_seqnum{0};   // the EOS we send on ourselves
};

struct Pending {
  std::shared_ptr<Hold> hold;
  Ref<GstPad> peer;  // rtpbin's send_rtp_sink: where the EOS goes
  unsigned generation;
};

// The system clock's thread: never wait here. A stream that started again
// (flush since, or data flowing through the payloader) keeps its own end.
gboolean on_delay_over(GstClock*, GstClockTime, GstClockID, gpointer data) noexcept {
  auto* p = static_cast<Pending*>(data);
  Hold& h = *p->hold;
  GstPad* peer = p->peer.get();
  if (h.generation != p->generation || !GST_PAD_STREAM_TRYLOCK(peer)) {
    GST_DEBUG_OBJECT(peer, "the stream started again: its end is not sent");
    return TRUE;
  }
  if (h.generation == p->generation) {
    GstEvent* eos = gst_event_new_eos();
    h.own_seqnum = gst_event_get_seqnum(eos);
    GST_DEBUG_OBJECT(peer, "end of stream sent on");
    if (!gst_pad_send_event(peer, eos))
      GST_DEBUG_OBJECT(peer, "end of stream refused (flushing)");
  }
  GST_PAD_STREAM_UNLOCK(peer);
  return TRUE;
}

GstPadProbeReturn on_src_event(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& hold = *static_cast<std::shared_ptr<Hold>*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START) {
    hold->generation++;
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE(event) != GST_EVENT_EOS || gst_event_get_seqnum(event) == hold->own_seqnum)
    return GST_PAD_PROBE_OK;
  auto peer = Ref<GstPad>::adopt(gst_pad_get_peer(pad));
  if (!peer)
    return GST_PAD_PROBE_OK;
  GST_DEBUG_OBJECT(pad, "end of stream held back");
  auto clock = Ref<GstClock>::adopt(gst_system_clock_obtain());
  GstClockID id =
      gst_clock_new_single_shot_id(clock.get(), gst_clock_get_time(clock.get()) + kByeDelay);
  auto* pending = new Pending{hold, std::move(peer), hold->generation.load()};
  gst_clock_id_wait_async(id, on_delay_over, pending,
                          [](gpointer p) { delete static_cast<Pending*>(p); });
  gst_clock_id_unref(id);  // the clock keeps its own while it waits
  return GST_PAD_PROBE_DROP;
}

}  // namespace

void delay_end_of_stream(GstElement* payloader) {
  GST_DEBUG_CATEGORY_INIT(gms_bye_debug, "gmsbyedelay", 0, "gst-mediaserver: end of file held back");
  auto src = Ref<GstPad>::adopt(gst_element_get_static_pad(payloader, "src"));
  if (!src)
    return;
  auto* hold = new std::shared_ptr<Hold>(std::make_shared<Hold>());
  gst_pad_add_probe(src.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                    GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    on_src_event, hold,
                    [](gpointer p) { delete static_cast<std::shared_ptr<Hold>*>(p); });
}

}  // namespace gms::mounts
