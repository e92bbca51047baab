// msstats: pass-through that counts buffers, bytes, bitrate, frame rate, key
// frames, gaps and last activity (glue around gms::StreamStats).
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GMS_TYPE_STATS (gms_stats_get_type())
G_DECLARE_FINAL_TYPE(GmsStats, gms_stats, GMS, STATS, GstBaseTransform)
G_END_DECLS
