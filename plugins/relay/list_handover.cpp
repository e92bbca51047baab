#include "relay/list_handover.h"

GST_DEBUG_CATEGORY_EXTERN(ms_relay_src_debug);
#define GST_CAT_DEFAULT ms_relay_src_debug

namespace gms::relay {

GstFlowReturn ListHandover::claim(GstBaseSrc* src) {
  if (!gst_base_src_is_live(src))
    return GST_FLOW_OK;  // base src looks at the state of live sources only
  for (;;) {
    if (GstFlowReturn r = gst_base_src_wait_playing(src); r != GST_FLOW_OK)
      return r;
    std::lock_guard<std::mutex> g(lock_);
    // Base src's live lock and flag (protected members: its macros are
    // private).
    g_mutex_lock(&src->live_lock);
    const bool playing = src->live_running;
    g_mutex_unlock(&src->live_lock);
    if (playing) {
      in_flight_ = true;
      return GST_FLOW_OK;
    }
    // Paused between the wait and the lock: wait again.
  }
}

void ListHandover::passed() {
  // Never takes lock_: base src's live lock is held here, and hold_pause()
  // may hold lock_ while its state change waits for that lock (it can see
  // the list pass as soon as the flag is cleared, before this thread would
  // get to lock_: the two threads then waited for each other for good).
  // A wake-up that comes between hold_pause()'s look and its wait is lost;
  // it waits in short slices for that.
  if (in_flight_.exchange(false))
    passed_cv_.notify_all();
}

std::unique_lock<std::mutex> ListHandover::hold_pause(GstBaseSrc* src) {
  std::unique_lock<std::mutex> held(lock_);
  const auto deadline = std::chrono::steady_clock::now() + kPauseWait;
  while (in_flight_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      GST_WARNING_OBJECT(src, "a buffer list handed over %lld ms ago has not reached base src",
                         static_cast<long long>(kPauseWait.count()));
      in_flight_ = false;
      break;
    }
    passed_cv_.wait_for(held, kSlice);
  }
  return held;
}

}  // namespace gms::relay
