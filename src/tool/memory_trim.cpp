#include "memory_trim.h"

#include <malloc.h>

#include <gst/gst.h>

#include <atomic>

GST_DEBUG_CATEGORY_STATIC(gms_trim_debug);
#define GST_CAT_DEFAULT gms_trim_debug

namespace gms::tool {
namespace {

std::atomic<bool> g_trimming{false};

gpointer trim(gpointer) {
  const gint64 t0 = g_get_monotonic_time();
  const int released = malloc_trim(0);
  GST_DEBUG("malloc_trim: %s, %" G_GINT64_FORMAT " us", released ? "memory released" : "nothing",
            g_get_monotonic_time() - t0);
  g_trimming = false;
  return nullptr;
}

gboolean on_tick(gpointer) noexcept {
  bool idle = false;
  // One trim at a time; none if no thread can be had now (the next tick tries again).
  if (g_trimming.compare_exchange_strong(idle, true)) {
    if (GThread* t = g_thread_try_new("gms-trim", trim, nullptr, nullptr))
      g_thread_unref(t);
    else
      g_trimming = false;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace

MemoryTrim::MemoryTrim(guint seconds) : source_(g_timeout_add_seconds(seconds, on_tick, nullptr)) {
  GST_DEBUG_CATEGORY_INIT(gms_trim_debug, "gmstrim", 0, "gst-mediaserver memory trim");
}

MemoryTrim::~MemoryTrim() {
  if (source_)
    g_source_remove(source_);
}

}  // namespace gms::tool
