// The recorder's bound on one access unit. Its depayloaders gather a frame's
// packets (those of one RTP timestamp, up to the marker bit) before they
// output it, and a publisher can send a frame that never ends: the same
// timestamp, no marker, megabytes after megabytes. Past `max_bytes` of
// payload in one frame, the rest of that frame's packets are dropped before
// the depayloader sees them; the frame is counted
// (InputDrops::oversized_frames) and logged (at most every 10 s). A new
// timestamp or a marker bit starts the next frame.
#pragma once

#include <gst/gst.h>

#include <cstddef>
#include <string>

#include "record/input_drops.h"

namespace gms::record {

constexpr size_t kMaxFrameBytes = 8u << 20;

// Watches the RTP that leaves `pad` (buffers and buffer lists).
void cap_frames(GstPad* pad, const std::string& path, InputDropsPtr drops,
                size_t max_bytes = kMaxFrameBytes);

}  // namespace gms::record
