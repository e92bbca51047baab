// What the API and the log say about one RTSP session: plain values (the
// public snapshot types).
#pragma once

#include <gst-mediaserver/status.h>

namespace gms::session {

using Figures = ::gms::SessionFigures;
using Info = ::gms::SessionInfo;

}  // namespace gms::session
