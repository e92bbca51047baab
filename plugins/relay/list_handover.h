// Hands a buffer list from a live base src's create() to base src without
// base src 1.22's NULL unref.
//
// A create() that submits a list (gst_base_src_submit_buffer_list) returns
// GST_FLOW_OK and no buffer. Base src 1.22 then looks again whether the
// source is PLAYING; if it left PLAYING meanwhile it waits for PLAYING, and
// if the source is stopped (or flushed) instead, it unrefs the buffer
// create() did not return: gst_mini_object_unref(NULL), a CRITICAL (fixed
// in 1.26). A viewer's PAUSE, or a media suspended and then stopped, right
// as a list was handed over was enough (seen once in the leak check, under
// AddressSanitizer at load 40).
//
// So leaving PLAYING waits for the list in flight: claim() lets a list go
// only while the source is PLAYING and no PAUSE is under way; base src's
// next call into the source after its look, get_times(), calls passed();
// and the PLAYING to PAUSED change runs inside hold_pause(), which first
// waits for that (at most kPauseWait: a bound, should base src ever skip
// get_times).
#pragma once

#include <gst/base/gstbasesrc.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace gms::relay {

class ListHandover {
 public:
  static constexpr std::chrono::milliseconds kPauseWait{2000};
  // hold_pause() looks at the flag at least this often.
  static constexpr std::chrono::milliseconds kSlice{5};

  // Streaming thread, in create(), before the list is submitted: waits for
  // PLAYING. Not GST_FLOW_OK: the source is stopping; drop the list and
  // return that.
  GstFlowReturn claim(GstBaseSrc* src);
  // Streaming thread, in get_times() (base src's live lock held). Never
  // blocks.
  void passed();
  // The state change to PAUSED, around base src's own: it waits for a
  // claimed list to pass, then keeps claim() waiting until it is released.
  std::unique_lock<std::mutex> hold_pause(GstBaseSrc* src);
  // stop(): nothing can be in flight any more.
  void reset() { in_flight_ = false; }

 private:
  // Taken before base src's live lock, never while holding it: passed(),
  // which runs with the live lock held, does not take it.
  std::mutex lock_;
  std::condition_variable passed_cv_;
  std::atomic<bool> in_flight_{false};
};

}  // namespace gms::relay
