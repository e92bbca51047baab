// Holds back the end of a file's RTP stream (and so gst-rtsp-server's RTCP
// BYE) for a moment after its last packet.
//
// Why: a GStreamer viewer (rtspsrc, rtpjitterbuffer 1.22) that gets the BYE
// while its jitterbuffer still holds the last packets can deadlock: the
// buffer it pushes after its timer thread drained re-arms the estimated-EOS
// timer (the stream has an end, npt-stop), and the EOS then waits on that
// timer for ever. The viewer hangs at the end of the file, last frame
// undecoded. Seen in the files_play test under load (about 1 run in 2 with
// three CPU hogs). A BYE that arrives after the viewer's latency has passed
// finds its queue empty.
#pragma once

#include <gst/gst.h>

namespace gms::mounts {

// Longer than rtspsrc's default latency (2 s), the largest a viewer usually
// runs with.
constexpr GstClockTime kByeDelay = 2500 * GST_MSECOND;

// After a payloader (on its src pad): its EOS goes on kByeDelay later, unless the
// stream starts again meanwhile (a flush: a seek, PLAY with a Range) or the
// pad goes away.
void delay_end_of_stream(GstElement* payloader);

}  // namespace gms::mounts
