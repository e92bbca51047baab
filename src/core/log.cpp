#include "core/log.h"

#include <atomic>
#include <cstdio>

#include "auth/redact.h"
#include "gms/ref.h"

namespace gms::log {
namespace {
std::atomic<int> g_verbosity{0};
const char* name(Level l) {
  switch (l) {
    case Level::kError:
      return "ERROR";
    case Level::kWarn:
      return "WARN";
    case Level::kInfo:
      return "INFO";
    case Level::kDebug:
      return "DEBUG";
  }
  return "?";
}
}  // namespace

void set_verbosity(int v) { g_verbosity = v; }
int verbosity() { return g_verbosity; }

void write(Level level, const char* fmt, ...) {
  if ((level == Level::kInfo && g_verbosity < 1) || (level == Level::kDebug && g_verbosity < 2))
    return;
  va_list ap;
  va_start(ap, fmt);
  GCharPtr msg(g_strdup_vprintf(fmt, ap));
  va_end(ap);
  auto now = UniquePtr<GDateTime, g_date_time_unref>(g_date_time_new_now_local());
  GCharPtr stamp(g_date_time_format(now.get(), "%Y-%m-%d %H:%M:%S"));
  // One fprintf per line keeps lines from threads whole.
  // No secret reaches the log, whatever a caller put in the line.
  fprintf(stderr, "%s %s %s\n", stamp.get(), name(level), auth::redact(msg.get()).c_str());
}

}  // namespace gms::log
