// A deadline for one RTSP client, on the server's control context: after
// `timeout`, `check` runs with the client if it still exists. The timer
// holds only a weak reference, so a client that left first is simply gone
// and nothing keeps it alive for the timer's sake. every_interval() is the
// same check repeated for as long as it answers true.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>

namespace gms {

using ClientCheck = void (*)(GstRTSPClient* client);

void after_deadline(GstRTSPClient* client, GMainContext* control,
                    std::chrono::milliseconds timeout, ClientCheck check);

using ClientRepeat = bool (*)(GstRTSPClient* client);

void every_interval(GstRTSPClient* client, GMainContext* control,
                    std::chrono::milliseconds interval, ClientRepeat check);

}  // namespace gms
