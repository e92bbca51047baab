#include "core/accept_pause.h"

#include <sys/resource.h>

#include "core/log.h"

namespace gms {

AcceptPause::AcceptPause(GMainContext* context, std::string what, std::function<void()> resume)
    : context_(Ref<GMainContext>::borrow(context)), what_(std::move(what)), resume_(std::move(resume)) {}

bool AcceptPause::failed(const GError* error) {
  if (!error || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
    return false;
  const gint64 now = g_get_monotonic_time();
  if (!exhausted_) {
    exhausted_ = true;
    since_ = now;
    if (last_log_ == 0 || now - last_log_ >= kLogEveryUs) {
      rlimit lim{};
      getrlimit(RLIMIT_NOFILE, &lim);
      std::string more = unlogged_ ? " (" + std::to_string(unlogged_) + " more times since the last report)" : "";
      GMS_LOG_ERROR("%s: cannot accept, too many open files (limit %llu)%s; new connections "
                    "wait in the listen queue, retried every %u ms",
                    what_.c_str(), static_cast<unsigned long long>(lim.rlim_cur), more.c_str(),
                    kPauseMs);
      last_log_ = now;
      unlogged_ = 0;
    } else {
      unlogged_++;
    }
  }
  GSource* t = g_timeout_source_new(kPauseMs);
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        // The holder keeps this finished source until the next pause or
        // cancel(), which destroy it again: a no-op.
        static_cast<AcceptPause*>(self)->resume_();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  timer_ = SourceHolder(t);
  g_source_attach(t, context_.get());
  return true;
}

void AcceptPause::accepted() {
  if (!exhausted_)
    return;
  exhausted_ = false;
  if (last_log_ && since_ >= last_log_)
    GMS_LOG_NOTICE("%s: accepting again after %lld ms without descriptors", what_.c_str(),
                   static_cast<long long>((g_get_monotonic_time() - since_) / 1000));
}

}  // namespace gms
