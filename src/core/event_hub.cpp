#include "core/event_hub.h"

#include <algorithm>

namespace gms {

const char* event_name(ServerEvent::Kind kind) {
  switch (kind) {
    case ServerEvent::Kind::kPublisherStarted:
      return "publisher-started";
    case ServerEvent::Kind::kPublisherStopped:
      return "publisher-stopped";
    case ServerEvent::Kind::kViewerJoined:
      return "viewer-joined";
    case ServerEvent::Kind::kViewerLeft:
      return "viewer-left";
    case ServerEvent::Kind::kBackendUp:
      return "backend-up";
    case ServerEvent::Kind::kBackendDown:
      return "backend-down";
    case ServerEvent::Kind::kSegmentWritten:
      return "segment-written";
    case ServerEvent::Kind::kPathAdded:
      return "path-added";
    case ServerEvent::Kind::kPathRemoved:
      return "path-removed";
    case ServerEvent::Kind::kPathChanged:
      return "path-changed";
  }
  return "?";
}

EventHub::~EventHub() { alive_.reset(); }

void EventHub::attach(GMainContext* context) {
  std::lock_guard<std::mutex> hold(lock_);
  context_ = Ref<GMainContext>::borrow(context);
}

EventToken EventHub::subscribe(EventCallback callback) {
  std::lock_guard<std::mutex> hold(lock_);
  const EventToken token = next_++;
  subscribers_.push_back({token, std::make_shared<EventCallback>(std::move(callback))});
  return token;
}

void EventHub::unsubscribe(EventToken token) {
  std::lock_guard<std::mutex> hold(lock_);
  std::erase_if(subscribers_, [&](const Subscriber& s) { return s.token == token; });
}

bool EventHub::subscribed(EventToken token) {
  std::lock_guard<std::mutex> hold(lock_);
  return std::any_of(subscribers_.begin(), subscribers_.end(),
                     [&](const Subscriber& s) { return s.token == token; });
}

void EventHub::post(ServerEvent event) {
  Ref<GMainContext> context;
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (subscribers_.empty() || !context_)
      return;
    context = context_;
  }
  struct Call {
    std::weak_ptr<int> alive;
    EventHub* hub;
    ServerEvent event;
  };
  // An idle source rather than g_main_context_invoke(), which would run at
  // once on the context's own thread. Sources of one priority run in the
  // order they were attached: events keep their order.
  GSource* idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      idle,
      [](gpointer data) noexcept -> gboolean {
        auto* c = static_cast<Call*>(data);
        if (auto alive = c->alive.lock())
          c->hub->deliver(c->event);
        return G_SOURCE_REMOVE;
      },
      new Call{alive_, this, std::move(event)}, [](gpointer d) { delete static_cast<Call*>(d); });
  g_source_attach(idle, context.get());
  g_source_unref(idle);
}

void EventHub::deliver(const ServerEvent& event) {
  std::vector<Subscriber> now;
  {
    std::lock_guard<std::mutex> hold(lock_);
    now = subscribers_;
  }
  for (const auto& s : now) {
    // One that an earlier callback unsubscribed hears nothing more.
    if (!subscribed(s.token))
      continue;
    try {
      (*s.fn)(event);
    } catch (...) {
      // An application's exception must not unwind through GLib.
    }
  }
}

}  // namespace gms
