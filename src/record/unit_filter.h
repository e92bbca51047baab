// Packets the recorder's depayloaders cannot take, dropped before them.
// GStreamer 1.22's rtph264depay answers an MTAP16 or MTAP24 (NAL unit
// types 26 and 27, of the interleaved mode, which nothing here announces)
// with an element error, and rtph265depay a PACI (type 50): one such packet
// from a publisher stopped the path's recording until its retry 10 s
// later. H.264 types that no packetization mode defines (0, 30, 31) cost a
// warning each. They are dropped, counted (InputDrops::refused_packets) and
// logged at most every 10 s; viewers still get them as they came.
#pragma once

#include <gst/gst.h>

#include <string>

#include "record/input_drops.h"

namespace gms::record {

// On `pad` (a reader's source, before the depayloader of `encoding`, the
// RTP encoding name): nothing is done for encodings other than H264 and
// H265.
void drop_refused_units(GstPad* pad, const std::string& encoding, const std::string& path,
                        InputDropsPtr drops);

}  // namespace gms::record
