// The queues gst-rtsp-server puts between a relayed stream's tee and its
// UDP and TCP sinks: how big they are, and what they do when full.
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace gms::mounts {

// Bytes a sink's queue holds before it loses its oldest packets.
inline constexpr guint kRelayQueueBytes = 16u << 20;

// Sets up a queue that gst-rtsp-server added to a relay's PLAY media:
// leaky, bounded in bytes only, and counting what it drops.
void configure_relay_queue(GstElement* queue);

// Times a relay sink queue was full and lost its oldest packets, since the
// process started (all relays together).
uint64_t relay_queue_overruns();

}  // namespace gms::mounts
