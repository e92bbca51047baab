#include "critical_trace.h"

#include <execinfo.h>
#include <glib.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer's interface (its header is not installed with GCC's
// runtime; the function is).
extern "C" void __sanitizer_print_stack_trace();
#endif

namespace gms::test {
namespace {

void print_stack() {
  char name[32] = "?";
  pthread_getname_np(pthread_self(), name, sizeof name);
  std::fprintf(stderr, "==== stack of thread \"%s\" at the message below ====\n", name);
  std::fflush(stderr);
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_print_stack_trace();
#else
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
#endif
}

GLogWriterOutput write_log(GLogLevelFlags level, const GLogField* fields, gsize n_fields,
                           gpointer data) noexcept {
  // g_logv hands the writer a message without its fatal flag and aborts
  // after: a critical is fatal here whatever the flag says.
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL))
    print_stack();
  return g_log_writer_default(level, fields, n_fields, data);
}

}  // namespace

void trace_criticals() {
  g_log_set_writer_func(write_log, nullptr, nullptr);
}

}  // namespace gms::test
