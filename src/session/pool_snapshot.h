// The sessions of a pool by id, read without keeping them alive.
//
// gst_rtsp_session_pool_find() touches the session it finds (it is the
// library's keep-alive for a request naming it): the figures refreshed
// every 2 s looked every session up that way, so no session ever reached
// its timeout while it was listed (a UDP viewer gone without a word was
// sent RTP until its connection closed). A filter pass does not touch.
#pragma once

#include <gst/rtsp-server/rtsp-session-pool.h>

#include <map>
#include <string>

#include "gms/ref.h"

namespace gms::session {

std::map<std::string, Ref<GstRTSPSession>> pool_snapshot(GstRTSPSessionPool* pool);

}  // namespace gms::session
