#include "core/media_progress.h"

#include <gst/rtsp-server/rtsp-stream.h>

#include "gms/ref.h"

namespace gms {
namespace {

const char kProgress[] = "gms-media-progress";
const char kWatched[] = "gms-progress-watched";

using ProgressPtr = std::shared_ptr<MediaProgress>;

GstPadProbeReturn on_stream_data(GstPad*, GstPadProbeInfo*, gpointer data) noexcept {
  (*static_cast<ProgressPtr*>(data))->notify();
  return GST_PAD_PROBE_OK;
}

void watch_stream(GstRTSPStream* stream, const ProgressPtr& progress) {
  if (!gst_rtsp_stream_is_sender(stream) || g_object_get_data(G_OBJECT(stream), kWatched))
    return;
  auto pad = Ref<GstPad>::adopt(gst_rtsp_stream_get_srcpad(stream));
  if (!pad)
    return;
  g_object_set_data(G_OBJECT(stream), kWatched, GINT_TO_POINTER(1));
  // The probe holds its own reference: the pad may outlive the media.
  gst_pad_add_probe(pad.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM |
                                    GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    on_stream_data, new ProgressPtr(progress),
                    [](gpointer p) { delete static_cast<ProgressPtr*>(p); });
}

}  // namespace

std::shared_ptr<MediaProgress> MediaProgress::of(GstRTSPMedia* media) {
  // Client threads of one shared media may ask at once: the first one is
  // the only maker. A leaf lock, held for a lookup.
  static std::mutex making;
  ProgressPtr progress;
  std::unique_lock<std::mutex> g(making);
  if (auto* p = static_cast<ProgressPtr*>(g_object_get_data(G_OBJECT(media), kProgress))) {
    progress = *p;
  } else {
    progress = std::make_shared<MediaProgress>();
    g_object_set_data_full(G_OBJECT(media), kProgress, new ProgressPtr(progress),
                           [](gpointer p) { delete static_cast<ProgressPtr*>(p); });
  }
  g.unlock();
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i)
    if (GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i))
      watch_stream(stream, progress);
  return progress;
}

bool MediaProgress::wait_until(const std::function<bool()>& ready, Clock::time_point deadline) {
  waiters_++;
  bool done = false;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> g(lock_);
      seen = generation_;
    }
    // Anything that passes from here on bumps the generation: no wake-up
    // is lost between this check and the wait.
    if ((done = ready()))
      break;
    std::unique_lock<std::mutex> g(lock_);
    if (!cond_.wait_until(g, deadline, [&] { return generation_ != seen; })) {
      g.unlock();
      done = ready();
      break;
    }
  }
  waiters_--;
  return done;
}

void MediaProgress::notify() {
  if (waiters_.load(std::memory_order_acquire) == 0)
    return;
  {
    std::lock_guard<std::mutex> g(lock_);
    generation_++;
  }
  cond_.notify_all();
}

}  // namespace gms
