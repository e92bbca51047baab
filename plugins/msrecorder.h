// msrecorder: a bin that writes parsed streams into time-segmented files,
// one muxer and filesink per segment, cut at key frames, with retention
// (glue around gms::SegmentPolicy).
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
#define GMS_TYPE_RECORDER (gms_recorder_get_type())
G_DECLARE_FINAL_TYPE(GmsRecorder, gms_recorder, GMS, RECORDER, GstBin)

typedef enum {
  GMS_RECORDER_FORMAT_MP4,
  GMS_RECORDER_FORMAT_MKV,
  GMS_RECORDER_FORMAT_MPEGTS,
} GmsRecorderFormat;

#define GMS_TYPE_RECORDER_FORMAT (gms_recorder_format_get_type())
GType gms_recorder_format_get_type(void);
G_END_DECLS
