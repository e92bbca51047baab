// AcceptPause: what a listening socket does when accept() fails for want of
// file descriptors (EMFILE, ENFILE). The connection stays in the kernel's
// listen queue and the socket stays readable, so a level-triggered source
// would call accept() again at once, for as long as the descriptors are
// gone: a core at 100 % and, with a log line per failure, a flood. Instead
// the caller drops its accept source and this calls `resume` after a short
// pause (the queued clients wait, nobody is refused); the fault is logged
// once per episode (at most every 10 s, with the count of the episodes not
// logged), and its end once an accept succeeds again.
// Runs on the context the listening socket is watched on.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>

#include "gms/ref.h"
#include "gms/signal.h"

namespace gms {

class AcceptPause {
 public:
  // `what`: the listener, for the log ("RTSP port 8554").
  AcceptPause(GMainContext* context, std::string what, std::function<void()> resume);

  // After a failed accept. True when it failed for want of descriptors: the
  // caller drops its accept source; `resume` is called after the pause.
  bool failed(const GError* error);
  // After a successful accept.
  void accepted();
  // No resume any more (the listener closes).
  void cancel() { timer_.reset(); }

  static constexpr guint kPauseMs = 200;
  static constexpr gint64 kLogEveryUs = 10 * G_USEC_PER_SEC;

 private:
  Ref<GMainContext> context_;
  std::string what_;
  std::function<void()> resume_;
  SourceHolder timer_;
  bool exhausted_ = false;
  gint64 since_ = 0;       // start of the current episode (monotonic, µs)
  gint64 last_log_ = 0;    // 0: never logged
  unsigned unlogged_ = 0;  // episodes since the last line
};

}  // namespace gms
