#include "mounts/eos_renewal.h"

#include <gst/rtsp-server/rtsp-stream.h>

#include <atomic>
#include <memory>

#include "gms/ref.h"
#include "mounts/media_setup.h"

namespace gms::mounts {
namespace {

// One per media, shared by the probes of its streams: the key moves on once
// (a second move between a viewer's DESCRIBE and SETUP would leave the media
// made for the DESCRIBE cached and unused).
struct Renewal {
  GWeakRef factory;
  std::atomic<bool> done{false};
  explicit Renewal(GstRTSPMediaFactory* f) { g_weak_ref_init(&factory, f); }
  ~Renewal() { g_weak_ref_clear(&factory); }
  Renewal(const Renewal&) = delete;
  Renewal& operator=(const Renewal&) = delete;
};
using RenewalPtr = std::shared_ptr<Renewal>;

GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  Renewal& r = **static_cast<RenewalPtr*>(data);
  if (r.done.exchange(true))
    return GST_PAD_PROBE_OK;
  if (auto factory = Ref<GstRTSPMediaFactory>::adopt(
          static_cast<GstRTSPMediaFactory*>(g_weak_ref_get(&r.factory))))
    renew_shared_media(factory.get());
  return GST_PAD_PROBE_OK;
}

}  // namespace

void renew_key_at_end_of_stream(GstRTSPMediaFactory* factory, GstRTSPMedia* media) {
  auto renewal = std::make_shared<Renewal>(factory);
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    auto pad = Ref<GstPad>::adopt(stream ? gst_rtsp_stream_get_srcpad(stream) : nullptr);
    if (!pad)
      continue;
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event,
                      new RenewalPtr(renewal),
                      [](gpointer p) { delete static_cast<RenewalPtr*>(p); });
  }
}

}  // namespace gms::mounts
