// Gathers a file's RTP packets into lists of about kRtpBatchSpan of media
// before they reach rtpbin and gst-rtsp-server's sinks.
//
// Why: the sinks pace a file by waiting on the clock for each buffer or
// list they get, and for a TCP viewer gst-rtsp-server then wakes its send
// thread once per list. A payloader hands over one list per frame, so a
// 30 fps file cost every viewer 30 clock waits and 30 thread hand-overs a
// second, which were most of its CPU. A list of several frames is paced by
// its first packet: the rest leave up to one span early, which a viewer's
// jitterbuffer absorbs; packet times (RTP and RTCP) are untouched.
//
// Nothing upstream of the payloader is paced, so holding a frame until the
// next one arrives adds no delay. Serialized events (segment, caps, end of
// stream) send what is held first; a flush drops it.
#pragma once

#include <gst/gst.h>

namespace gms::mounts {

constexpr GstClockTime kRtpBatchSpan = 100 * GST_MSECOND;

// On the payloader's src pad; add before other probes on that pad (they see
// the lists, and an end of stream after what was held).
void batch_rtp(GstElement* payloader);

}  // namespace gms::mounts
