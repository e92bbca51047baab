// What a publisher may announce: the SDP of an ANNOUNCE is checked before
// anything is built from it. Media are relayed as RTP without depayloading,
// so most well-formed encodings are relayed: the known ones at any payload
// type, others (G726-32, …) at a dynamic one. Refused whatever the type:
// vendor encodings ("X-QDM", "X-SV3V-ES", …) and CELT, whose depayloaders
// in players have a record of memory faults, and linear PCM with a channel
// count that has no common layout. Only the recorder depayloads, and only
// the codecs it knows (path_recorder.cpp); it leaves the other tracks out
// of its files.
#pragma once

#include <gst/sdp/gstsdpmessage.h>

#include <string>

namespace gms::mounts {

constexpr unsigned kMaxPublishedTracks = 8;

struct AnnounceCheck {
  bool ok = false;
  int status = 400;  // RTSP status when refused: 400 malformed, 415 unsupported
  std::string reason;
  unsigned tracks = 0;
};

AnnounceCheck check_announce_sdp(const GstSDPMessage* sdp);
// Parses `body` first (an empty or unparsable body is refused).
AnnounceCheck check_announce_body(const guint8* body, guint size);

}  // namespace gms::mounts
