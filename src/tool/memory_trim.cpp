#include "memory_trim.h"

#include <malloc.h>

#include <atomic>

namespace gms::tool {
namespace {

std::atomic<bool> g_trimming{false};

gpointer trim(gpointer) {
  malloc_trim(0);
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

MemoryTrim::MemoryTrim(guint seconds) : source_(g_timeout_add_seconds(seconds, on_tick, nullptr)) {}

MemoryTrim::~MemoryTrim() {
  if (source_)
    g_source_remove(source_);
}

}  // namespace gms::tool
