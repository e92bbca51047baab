// GmsSessionPool: a GstRTSPSessionPool whose session ids come from the
// kernel's random source (the stock ids come from g_random, a predictable
// Mersenne Twister: a client that saw some ids could guess the others).
#pragma once

#include <gst/rtsp-server/rtsp-session-pool.h>

#include <functional>
#include <string>

G_BEGIN_DECLS
#define GMS_TYPE_SESSION_POOL (gms_session_pool_get_type())
G_DECLARE_FINAL_TYPE(GmsSessionPool, gms_session_pool, GMS, SESSION_POOL, GstRTSPSessionPool)
GstRTSPSessionPool* gms_session_pool_new(void);
G_END_DECLS

namespace gms {
// 128 random bits as 32 hex characters; throws std::runtime_error if the
// kernel has no randomness to give (never seen after boot).
std::string random_token();

// Calls `f` with each session media of the pool's PLAY sessions (viewers;
// publishers' RECORD sessions are left out), under the pool's and the
// session's locks: `f` must not call back into them.
void for_each_viewer(GstRTSPSessionPool* pool,
                     const std::function<void(GstRTSPSessionMedia*, GstRTSPMedia*)>& f);
}  // namespace gms
