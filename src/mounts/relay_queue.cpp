#include "mounts/relay_queue.h"

#include <atomic>

#include "core/log.h"

namespace gms::mounts {

namespace {

std::atomic<uint64_t> g_overruns{0};
std::atomic<gint64> g_last_warning_us{0};

// On the streaming thread of the relay's source, just before the queue
// drops its oldest item: count it, and say so at most every 10 s.
void on_overrun(GstElement* queue, gpointer) noexcept {
  uint64_t n = g_overruns.fetch_add(1, std::memory_order_relaxed) + 1;
  gint64 now = g_get_monotonic_time();
  gint64 last = g_last_warning_us.load(std::memory_order_relaxed);
  if (now - last < 10 * G_USEC_PER_SEC ||
      !g_last_warning_us.compare_exchange_strong(last, now, std::memory_order_relaxed))
    return;
  guint bytes = 0;
  g_object_get(queue, "current-level-bytes", &bytes, nullptr);
  GMS_LOG_WARN("relay: a sink's queue is full (%u bytes): its viewers lose packets (%llu "
               "overruns so far)",
               bytes, static_cast<unsigned long long>(n));
}

}  // namespace

void configure_relay_queue(GstElement* queue) {
  // Why leaky at all: gst-rtsp-server stops pulling its TCP appsink while
  // every TCP viewer is stuck; a queue that blocked would then stall the
  // tee, and with it the UDP viewers and the multicast group. Dropping the
  // oldest packets of that branch keeps the others going.
  //
  // Why bytes only: the sinks' threads fall behind the relay's source
  // whenever the machine is busy for a moment (hundreds of viewers, each a
  // write per packet list). A 2 s time bound was reached under load and cut
  // the same packets out of every viewer's stream; what a lagging branch
  // holds costs memory, which the byte bound caps (the packets are the
  // ones the other branch holds anyway, shared, not copies). 16 MB is some
  // 40 s of a 3 Mbit/s stream, as much as each relay reader may queue.
  g_object_set(queue, "leaky", 2 /* downstream */, "max-size-buffers", 0u, "max-size-bytes",
               kRelayQueueBytes, "max-size-time", guint64(0), "silent", FALSE, nullptr);
  g_signal_connect(queue, "overrun", G_CALLBACK(on_overrun), nullptr);
}

uint64_t relay_queue_overruns() { return g_overruns.load(std::memory_order_relaxed); }

}  // namespace gms::mounts
