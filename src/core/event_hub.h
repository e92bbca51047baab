// EventHub: the application's subscriptions to server events
// (Server::subscribe). Events are posted from any thread and always
// delivered later from an idle source on the server's context, never from
// inside the code that saw them: a callback may then change paths or end
// sessions without re-entering a reload or a recorder update half done.
#pragma once

#include <gst-mediaserver/events.h>
#include <glib.h>

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "gms/ref.h"

namespace gms {

class EventHub {
 public:
  EventHub() = default;
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Where events go from now on; until then they are dropped.
  void attach(GMainContext* context);
  // Control context (or before attach).
  EventToken subscribe(EventCallback callback);
  void unsubscribe(EventToken token);
  // Any thread. Cheap when nobody subscribed.
  void post(ServerEvent event);

 private:
  struct Subscriber {
    EventToken token;
    std::shared_ptr<EventCallback> fn;  // lives on while it runs
  };
  void deliver(const ServerEvent& event);
  bool subscribed(EventToken token);

  // A leaf: no callback runs and nothing of GLib is dispatched while held.
  std::mutex lock_;
  Ref<GMainContext> context_;
  std::vector<Subscriber> subscribers_;
  EventToken next_ = 1;
  // Queued deliveries find the hub gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gms
