#include "stop_signals.h"

#include <glib-unix.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <gst-mediaserver/server.h>

namespace gms::tool {

StopSignals::StopSignals(GMainLoop* main_loop) : main_loop_(main_loop) {
  ctx_ = g_main_context_new();
  loop_ = g_main_loop_new(ctx_, FALSE);
  for (int sig : {SIGINT, SIGTERM}) {
    GSource* s = g_unix_signal_source_new(sig);
    g_source_set_callback(s, on_signal, this, nullptr);
    g_source_attach(s, ctx_);
    g_source_unref(s);
  }
  thread_ = std::thread([this] {
    g_main_context_push_thread_default(ctx_);
    g_main_loop_run(loop_);
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
  auto* self = static_cast<StopSignals*>(data);
  if (self->stopping_.exchange(true)) {
    gms::program_log("WARN", "second stop signal; exiting now");
    _exit(1);
  }
  gms::program_log("NOTICE", "stopping");
  g_main_loop_quit(self->main_loop_);  // thread-safe
  GSource* t = g_timeout_source_new(kStopDeadlineMs);
  g_source_set_callback(
      t,
      [](gpointer) noexcept -> gboolean {
        gms::program_log("ERROR", "not stopped within " + std::to_string(kStopDeadlineMs) +
                                      " ms; exiting now");
        _exit(1);
      },
      nullptr, nullptr);
  g_source_attach(t, self->ctx_);
  g_source_unref(t);
  return G_SOURCE_CONTINUE;
}

}  // namespace gms::tool
