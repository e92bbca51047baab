// A shared media whose stream ended is never handed to a new viewer.
//
// A relayed path's viewers share one PLAY media; when its stream ends (the
// publisher left, or came back with another codec) the factory's shared key
// moves on so that the next viewer gets a new media with the path's current
// SDP. Moving it on at the media's EOS message was too late: that message
// comes once every sink of the media has its EOS, while the viewers learn of
// the end from the RTCP BYE, which leaves before the RTCP sinks get their
// EOS (each sink has its own queue thread). A viewer that came back at once
// (a player reconnecting on EOS) could still be given the ended media: its
// old SDP, and no packet ever again. Held 1 s on a starved machine,
// PublishLifecycle.OverrideWithAnotherCodecEndsViewersWhoReconnect failed
// every time.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

namespace gms::mounts {

// From the factory's configure vfunc (the media's streams are collected):
// the first EOS event any stream's source pushes renews `factory`'s shared
// key (renew_shared_media()) before it goes on downstream, so before the
// BYE. The factory is held weakly.
void renew_key_at_end_of_stream(GstRTSPMediaFactory* factory, GstRTSPMedia* media);

}  // namespace gms::mounts
