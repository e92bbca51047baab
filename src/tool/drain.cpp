#include "drain.h"

#include <string>

namespace gms::tool {
namespace {

// How often the open connections are counted: there is no event for the
// last one going, and a count is cheap. Connections, not sessions: a
// session outlives a viewer that left without TEARDOWN by session-timeout.
constexpr guint kCheckMs = 200;

}  // namespace

void Drain::start(unsigned seconds) {
  server_.drain();
  deadline_us_ = g_get_monotonic_time() + gint64(seconds) * G_USEC_PER_SEC;
  last_reported_ = server_.connection_count();
  program_log("NOTICE", "draining: " + std::to_string(last_reported_) + " connection(s) open");
  if (!check())
    return;
  GSource* t = g_timeout_source_new(kCheckMs);
  g_source_set_callback(
      t, [](gpointer self) noexcept -> gboolean { return static_cast<Drain*>(self)->check(); },
      this, nullptr);
  timer_ = SourceHolder(t);
  g_source_attach(t, g_main_loop_get_context(loop_));
}

// True while the drain goes on.
bool Drain::check() {
  unsigned open = server_.connection_count();
  if (open == 0 || g_get_monotonic_time() >= deadline_us_) {
    program_log("NOTICE", "drained (" + std::to_string(open) + " connection(s) left); stopping");
    g_main_loop_quit(loop_);
    return G_SOURCE_REMOVE;
  }
  if (open != last_reported_) {
    last_reported_ = open;
    program_log("NOTICE", "draining: " + std::to_string(open) + " connection(s) open");
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace gms::tool
