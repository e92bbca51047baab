// Runs a function on a GMainContext (at once when called from its thread,
// else queued), but only if its owner still lives then: callbacks of
// streaming or client threads hop to the control context this way, and an
// object gone meanwhile is never touched.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <utility>

namespace gms {

inline void invoke_while_alive(GMainContext* context, std::weak_ptr<void> owner,
                               std::function<void()> fn) {
  if (!context)
    return;
  struct Call {
    std::weak_ptr<void> owner;
    std::function<void()> fn;
  };
  g_main_context_invoke_full(
      context, G_PRIORITY_DEFAULT,
      [](gpointer data) noexcept -> gboolean {
        auto* c = static_cast<Call*>(data);
        if (auto alive = c->owner.lock())
          c->fn();
        return G_SOURCE_REMOVE;
      },
      new Call{std::move(owner), std::move(fn)}, [](gpointer d) { delete static_cast<Call*>(d); });
}

}  // namespace gms
