// TCP viewers that gst-rtsp-server dropped for being too slow get their
// session ended and their connection closed.
//
// The library queues what a TCP viewer's connection does not take in a
// backlog of that viewer's, and drops the viewer's transport from its
// stream once that backlog holds more than 10 s (its "Dropping slow
// transport" error line). It tells no one: the session stays PLAYING with
// nothing sent, until the session timeout if the client is stalled, and
// for good if it still sends keep-alives (a player on a link too slow for
// the stream), which then shows a frozen picture instead of reconnecting.
//
// Every 2 s, on a thread of its own (never the control context: listing
// the PLAYING sessions' TCP transports takes each session media's lock,
// and asking whether each is still in its stream takes the stream's, which
// a stream's send thread holds while it hands a list to every viewer), the
// transports are looked for in their streams. A session whose transport
// was missing at two looks in a row is ended, as DELETE /api/v1/sessions
// does: the client's connection is closed, and it may reconnect.
#pragma once

#include <gst/rtsp-server/rtsp-session-pool.h>

#include <memory>
#include <set>
#include <string>

#include "gms/ref.h"

namespace gms::session {

class Registry;

class DroppedViewers : public std::enable_shared_from_this<DroppedViewers> {
 public:
  DroppedViewers(GstRTSPSessionPool* pool, std::shared_ptr<Registry> registry,
                 GMainContext* control);

  // Control context: one look (nothing when the last is still asking).
  void look();

 private:
  void judged(const std::set<std::string>& missing);  // control context

  Ref<GstRTSPSessionPool> pool_;
  std::weak_ptr<Registry> registry_;
  Ref<GMainContext> control_;
  bool asking_ = false;                  // control context
  std::set<std::string> missing_once_;   // control context: missing at the last look
};

}  // namespace gms::session
