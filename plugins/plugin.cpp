// The GStreamer plugin "mediaserver": gst-mediaserver's elements, usable on
// their own in gst-launch-1.0.
#include <gst/gst.h>

#include "elements.h"

#ifndef PACKAGE
#define PACKAGE "gst-mediaserver"
#endif

static gboolean plugin_init(GstPlugin* plugin) { return gms_register_elements(plugin); }

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, mediaserver,
                  "gst-mediaserver elements: normalizer, stats, relay, recorder", plugin_init,
                  GMS_VERSION, "LGPL", "gst-mediaserver", "https://example.invalid/gst-mediaserver")
