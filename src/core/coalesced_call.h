// CoalescedCall: runs a function on a main context when asked from any
// thread; asks that come before it ran are one run. Held by a shared_ptr:
// hooks keep a weak_ptr, and once the owner drops it, late asks do nothing.
#pragma once

#include <glib.h>

#include <atomic>
#include <functional>
#include <memory>

#include "gms/invoke.h"
#include "gms/ref.h"

namespace gms {

class CoalescedCall : public std::enable_shared_from_this<CoalescedCall> {
 public:
  // `fn` runs on `context` only.
  CoalescedCall(GMainContext* context, std::function<void()> fn)
      : context_(Ref<GMainContext>::borrow(context)), fn_(std::move(fn)) {}

  void ask() {
    if (pending_.exchange(true))
      return;
    auto* weak = new std::weak_ptr<CoalescedCall>(weak_from_this());
    invoke_on(
        context_.get(),
        [](gpointer data) noexcept -> gboolean {
          if (auto self = static_cast<std::weak_ptr<CoalescedCall>*>(data)->lock()) {
            self->pending_ = false;
            self->fn_();
          }
          return G_SOURCE_REMOVE;
        },
        weak, [](gpointer data) { delete static_cast<std::weak_ptr<CoalescedCall>*>(data); });
  }

  // For hooks that may outlive the owner.
  static std::function<void()> asker(const std::shared_ptr<CoalescedCall>& call) {
    return [weak = std::weak_ptr<CoalescedCall>(call)] {
      if (auto c = weak.lock())
        c->ask();
    };
  }

 private:
  Ref<GMainContext> context_;
  std::function<void()> fn_;
  std::atomic<bool> pending_{false};
};

}  // namespace gms
