// msnormalize: maps timestamps (and RTP numbering) onto one monotonic output
// timeline shared by a group of tracks (glue around gms::Normalizer).
#pragma once

#include <gst/base/gstbasetransform.h>

// Output timestamps are running time + this bias, and the output segment
// starts at it, so buffers whose DTS comes before the segment start (encoders
// with B-frames) keep a valid DTS. Running time = PTS - bias (as x264enc).
#define GMS_NORMALIZE_OUTPUT_BIAS (1000 * 3600 * GST_SECOND)

G_BEGIN_DECLS
#define GMS_TYPE_NORMALIZE (gms_normalize_get_type())
G_DECLARE_FINAL_TYPE(GmsNormalize, gms_normalize, GMS, NORMALIZE, GstBaseTransform)
G_END_DECLS
