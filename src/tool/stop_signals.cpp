#include "stop_signals.h"

#include <glib-unix.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include <gst-mediaserver/server.h>

namespace gms::tool {

StopSignals::StopSignals(GMainLoop* main_loop, unsigned drain_seconds, std::function<void()> drain)
    : main_loop_(main_loop),
      drain_seconds_(drain ? drain_seconds : 0),
      drain_(std::move(drain)),
      watches_{{this, SIGINT}, {this, SIGTERM}} {
  ctx_ = g_main_context_new();
  loop_ = g_main_loop_new(ctx_, FALSE);
  for (Watch& w : watches_) {
    GSource* s = g_unix_signal_source_new(w.signal);
    g_source_set_callback(s, on_signal, &w, nullptr);
    g_source_attach(s, ctx_);
    g_source_unref(s);
  }
  thread_ = std::thread([this] {
    g_main_context_push_thread_default(ctx_);
    g_main_loop_run(loop_);
    deadline_.reset();
    g_main_context_pop_thread_default(ctx_);
  });
}

StopSignals::~StopSignals() {
  // Quit from inside the loop: a quit before it runs would be lost.
  g_main_context_invoke(
      ctx_,
      [](gpointer loop) noexcept -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop*>(loop));
        return G_SOURCE_REMOVE;
      },
      loop_);
  thread_.join();
  g_main_loop_unref(loop_);
  g_main_context_unref(ctx_);
}

gboolean StopSignals::on_signal(gpointer data) noexcept {
  auto* w = static_cast<Watch*>(data);
  w->self->handle(w->signal);
  return G_SOURCE_CONTINUE;
}

void StopSignals::handle(int signal) {
  switch (state_) {
    case State::kStopping:
      gms::program_log("WARN", "second stop signal; exiting now");
      _exit(1);
    case State::kDraining:
      gms::program_log("NOTICE", "stop signal while draining; stopping now");
      stop_now();
      return;
    case State::kRunning:
      break;
  }
  if (signal == SIGTERM && drain_seconds_ > 0) {
    state_ = State::kDraining;
    gms::program_log("NOTICE", "draining for up to " + std::to_string(drain_seconds_) +
                                   " s (SIGTERM or SIGINT again: stop now)");
    g_main_context_invoke(
        g_main_loop_get_context(main_loop_),
        [](gpointer self) noexcept -> gboolean {
          static_cast<StopSignals*>(self)->drain_();
          return G_SOURCE_REMOVE;
        },
        this);
    // The drain quits the loop by itself; this is its bound if it cannot.
    arm_deadline(drain_seconds_ * 1000 + kStopDeadlineMs);
    return;
  }
  stop_now();
}

void StopSignals::stop_now() {
  state_ = State::kStopping;
  gms::program_log("NOTICE", "stopping");
  g_main_loop_quit(main_loop_);  // thread-safe
  arm_deadline(kStopDeadlineMs);
}

void StopSignals::arm_deadline(guint ms) {
  GSource* t = g_timeout_source_new(ms);
  g_source_set_callback(
      t,
      [](gpointer) noexcept -> gboolean {
        gms::program_log("ERROR", "not stopped in time; exiting now");
        _exit(1);
      },
      nullptr, nullptr);
  deadline_ = SourceHolder(t);
  g_source_attach(t, ctx_);
}

}  // namespace gms::tool
