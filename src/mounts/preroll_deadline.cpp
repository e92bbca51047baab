#include "mounts/preroll_deadline.h"

#include <atomic>
#include <memory>

#include "gms/ref.h"

namespace gms::mounts {
namespace {

// Shared by the clock's callback and the media's signal handlers.
struct Deadline {
  GWeakRef pipeline;
  std::atomic<bool> over{false};  // prepared, unprepared, or failed here
  std::string what;
  long long bound_ms = 0;

  Deadline() { g_weak_ref_init(&pipeline, nullptr); }
  ~Deadline() { g_weak_ref_clear(&pipeline); }
};

using Shared = std::shared_ptr<Deadline>;

void free_shared(gpointer data, GClosure* = nullptr) noexcept { delete static_cast<Shared*>(data); }

void on_prepared_or_unprepared(GstRTSPMedia*, gpointer data) noexcept {
  (*static_cast<Shared*>(data))->over = true;
}

// The system clock's thread: posting a message never waits.
gboolean on_bound(GstClock*, GstClockTime, GstClockID, gpointer data) noexcept {
  Deadline& d = **static_cast<Shared*>(data);
  if (d.over.exchange(true))
    return TRUE;
  auto pipeline = Ref<GstElement>::adopt(static_cast<GstElement*>(g_weak_ref_get(&d.pipeline)));
  if (!pipeline)
    return TRUE;
  // Logged with the path by the pipeline's error report.
  GErrorPtr err(g_error_new(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                            "%s did not preroll within %lld ms (a broken file?)", d.what.c_str(),
                            d.bound_ms));
  gst_element_post_message(pipeline.get(),
                           gst_message_new_error(GST_OBJECT(pipeline.get()), err.get(), nullptr));
  return TRUE;
}

}  // namespace

void fail_preroll_after(GstRTSPMedia* media, std::chrono::milliseconds bound,
                        const std::string& what) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  if (!pipeline || !GST_IS_ELEMENT(pipeline.get()))
    return;
  auto d = std::make_shared<Deadline>();
  g_weak_ref_set(&d->pipeline, pipeline.get());
  d->what = what;
  d->bound_ms = bound.count();
  for (const char* signal : {"prepared", "unprepared"})
    g_signal_connect_data(media, signal, G_CALLBACK(on_prepared_or_unprepared), new Shared(d),
                          free_shared, GConnectFlags(0));
  auto clock = Ref<GstClock>::adopt(gst_system_clock_obtain());
  GstClockID id = gst_clock_new_single_shot_id(
      clock.get(), gst_clock_get_time(clock.get()) + GstClockTime(bound.count()) * GST_MSECOND);
  gst_clock_id_wait_async(id, on_bound, new Shared(d), [](gpointer p) { free_shared(p); });
  gst_clock_id_unref(id);  // the clock keeps its own while it waits
}

}  // namespace gms::mounts
