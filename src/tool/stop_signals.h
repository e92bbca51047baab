// SIGINT and SIGTERM for gst-mediaserver, watched on a thread of their own
// rather than on the main loop: a stop is then seen, and the process ends
// within kStopDeadlineMs, whatever the main loop is doing. A second signal
// ends it at once. Both forced ends exit with status 1.
#pragma once

#include <glib.h>

#include <atomic>
#include <thread>

namespace gms::tool {

constexpr guint kStopDeadlineMs = 4000;

class StopSignals {
 public:
  // Quits `main_loop` at the first signal.
  explicit StopSignals(GMainLoop* main_loop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static gboolean on_signal(gpointer data) noexcept;

  GMainLoop* main_loop_;
  GMainContext* ctx_;
  GMainLoop* loop_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gms::tool
