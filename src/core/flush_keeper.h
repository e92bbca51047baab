// Keeps the sample a TCP appsink holds across a flush, so that the stream's
// send thread never waits for a sample the flush took away.
//
// gst-rtsp-server 1.22 feeds its TCP viewers from one appsink per stream and
// direction (max-buffers=1). Each new sample sets a "have buffer" flag of the
// stream and wakes its send thread; that thread clears the flag and pulls
// the sample, with the stream's lock held, but only once a viewer can take
// more (a backpressured viewer leaves the sample queued and the flag set).
// A flush (every seek of a file makes one) empties the appsink's queue but
// not the flag: the next wake-up (a viewer's write completing, an RTCP
// packet) then pulls from an empty appsink and waits, holding the stream's
// lock, for a sample that only a PLAYING pipeline can render. Everything
// that would lead there wants that lock first: the streaming thread in the
// stream's caps handler, the seek waiting for its preroll, the PLAY that
// resumes the media (gst_rtsp_media_is_receive_only), TEARDOWN and the
// connection's cleanup. The media is wedged for good.
//
// Here the sample is taken out of the appsink just before the flush reaches
// it and given back right after: the flag and the queue agree again. The
// viewer then gets that one sample after the seek, as it would have had the
// send thread pulled it a moment earlier.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

namespace gms {

// For every appsink added to `media`'s pipeline from now on (the library
// adds its TCP appsinks when it prepares the media or meets its first TCP
// viewer). Call from media-configure.
void keep_tcp_samples_across_flushes(GstRTSPMedia* media);

// The same for one appsink.
void keep_sample_across_flushes(GstElement* appsink);

}  // namespace gms
