// The reference a GstRTSPMediaFactory::create_element hands over.
#pragma once

#include <gst/gst.h>

namespace gms::mounts {

// The media takes the factory's element with g_object_ref_sink() (its
// "element" property), made for the stock factory's floating
// gst_parse_launch() result. A full reference (a Ref's release()) gets a
// second reference on top that nobody drops: the element, its pads and its
// bus then outlive the media (a whole bin per per-viewer session).
inline GstElement* floating(GstElement* owned) {
  g_object_force_floating(G_OBJECT(owned));
  return owned;
}

}  // namespace gms::mounts
