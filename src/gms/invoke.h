// Runs a function on a GMainContext (at once when called from the thread
// running it, else queued), but only if its owner still lives then: callbacks of
// streaming or client threads hop to the control context this way, and an
// object gone meanwhile is never touched.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <utility>

namespace gms {

// Runs `func(data)` on `context` (nullptr: the global default one): at once
// when the calling thread owns it (it is the one running it), else from an
// idle source there; `notify` frees `data` after either.
//
// Why not g_main_context_invoke_full(): it also runs the function at once
// on any thread that manages to acquire the context, and the global default
// context can be acquired by every thread whenever its loop is not running,
// at startup and during the stop. A client thread closing a publisher at a
// stop so ran the server's path bookkeeping beside the main thread that
// was destroying the paths (AddressSanitizer: heap-use-after-free in
// Path::event, under RtpFaults.UdpInjectionIsIgnored; the same test had
// ended a run with SIGSEGV before).
inline void invoke_on(GMainContext* context, GSourceFunc func, gpointer data,
                      GDestroyNotify notify) {
  if (g_main_context_is_owner(context ? context : g_main_context_default())) {
    func(data);
    if (notify)
      notify(data);
    return;
  }
  GSource* idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_DEFAULT);
  g_source_set_callback(idle, func, data, notify);
  g_source_attach(idle, context);
  g_source_unref(idle);
}

inline void invoke_while_alive(GMainContext* context, std::weak_ptr<void> owner,
                               std::function<void()> fn) {
  if (!context)
    return;
  struct Call {
    std::weak_ptr<void> owner;
    std::function<void()> fn;
  };
  invoke_on(
      context,
      [](gpointer data) noexcept -> gboolean {
        auto* c = static_cast<Call*>(data);
        if (auto alive = c->owner.lock())
          c->fn();
        return G_SOURCE_REMOVE;
      },
      new Call{std::move(owner), std::move(fn)}, [](gpointer d) { delete static_cast<Call*>(d); });
}

}  // namespace gms
