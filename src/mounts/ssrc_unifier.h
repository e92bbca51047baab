// gst-rtsp-server 1.22 links one SSRC per stream of a publisher (the first
// that rtpbin reports): a publisher whose SSRC changes (an encoder that
// restarts, a second source) makes rtpbin a pad that nothing links, the
// not-linked flow stops the media's source and the publisher is cut off.
// Each track of a publisher is one source to us whatever it calls itself,
// so its RTP takes the first SSRC it used before rtpbin sees it; a new
// SSRC then looks like a jump in sequence numbers and time, which the
// jitterbuffer and the relay take in their stride.
#pragma once

#include <gst/gst.h>

namespace gms::mounts {

// On `pad` (the src pad of a publisher's appsrc or udpsrc): RTP packets
// whose SSRC differs from the first one seen there are given that one.
// RTCP passes as it is.
void unify_ssrc(GstPad* pad);

}  // namespace gms::mounts
