// The drain before a stop (SIGTERM with [server] drain-timeout): the server
// takes no new session and its health check fails, so that a load balancer
// sends new viewers elsewhere; the open connections go on until their
// viewers leave or the time is up, then the main loop quits for the
// orderly stop.
// Runs on the main loop's context.
#pragma once

#include <gst-mediaserver/server.h>

#include <glib.h>

#include "gms/signal.h"

namespace gms::tool {

class Drain {
 public:
  Drain(Server& server, GMainLoop* loop) : server_(server), loop_(loop) {}
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  void start(unsigned seconds);

 private:
  bool check();

  Server& server_;
  GMainLoop* loop_;
  gint64 deadline_us_ = 0;
  unsigned last_reported_ = 0;
  SourceHolder timer_;
};

}  // namespace gms::tool
