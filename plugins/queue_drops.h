// What a leaky queue dropped. GStreamer's queue drops its oldest data when
// full (leaky=downstream) without counting it; this counts buffers in at its
// sink pad and out at its source pad, and at each overrun (the queue is
// full, a drop follows) works out how many it has dropped so far: in, less
// the item being pushed, less out, less what it holds.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>

namespace gms {

class QueueDrops {
 public:
  // Adds the counting probes to `queue`'s pads (once; before data flows).
  void attach(GstElement* queue);
  // On the queue's upstream thread, in its "overrun" handler: the buffers
  // dropped since the last call (0 if none).
  uint64_t newly_dropped(GstElement* queue);

 private:
  static GstPadProbeReturn count_in(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept;
  static GstPadProbeReturn count_out(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept;

  std::atomic<uint64_t> in_{0}, out_{0};
  std::atomic<uint64_t> pushing_{0};  // the item in the queue's chain now (upstream thread)
  uint64_t reported_ = 0;             // upstream thread only
};

}  // namespace gms
