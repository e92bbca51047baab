// SIGINT and SIGTERM for gst-mediaserver, watched on a thread of their own
// rather than on the main loop: a stop is then seen, and the process ends
// within kStopDeadlineMs, whatever the main loop is doing.
//
// With a drain time, SIGTERM first drains (the server stops taking new
// sessions and waits for the open ones, up to that time, then stops as
// above); a second SIGTERM or a SIGINT meanwhile stops at once. A signal
// during a stop ends the process at once. Forced ends exit with status 1.
#pragma once

#include <glib.h>

#include <atomic>
#include <functional>
#include <thread>

#include "gms/signal.h"

namespace gms::tool {

constexpr guint kStopDeadlineMs = 4000;

class StopSignals {
 public:
  // Quits `main_loop` at the first signal, or calls `drain` on the main
  // loop's context at the first SIGTERM when `drain_seconds` > 0 (it quits
  // the loop itself when done).
  StopSignals(GMainLoop* main_loop, unsigned drain_seconds = 0,
              std::function<void()> drain = nullptr);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  enum class State { kRunning, kDraining, kStopping };
  struct Watch {
    StopSignals* self;
    int signal;
  };
  static gboolean on_signal(gpointer data) noexcept;
  void handle(int signal);
  void stop_now();
  void arm_deadline(guint ms);

  GMainLoop* main_loop_;
  const unsigned drain_seconds_;
  std::function<void()> drain_;
  GMainContext* ctx_;
  GMainLoop* loop_;
  Watch watches_[2];
  SourceHolder deadline_;     // the signal thread's only
  State state_ = State::kRunning;  // the signal thread's only
  std::thread thread_;
};

}  // namespace gms::tool
