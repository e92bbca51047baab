// Every element of the "mediaserver" plugin, declared once; plugin.cpp
// registers them and the tests register them without a registry.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
GST_ELEMENT_REGISTER_DECLARE(msstats);
GST_ELEMENT_REGISTER_DECLARE(msnormalize);
GST_ELEMENT_REGISTER_DECLARE(msrecorder);
GST_ELEMENT_REGISTER_DECLARE(msrelaysink);
GST_ELEMENT_REGISTER_DECLARE(msrelaysrc);
G_END_DECLS

// Registers every element with `plugin` (NULL: for tests, no registry).
gboolean gms_register_elements(GstPlugin* plugin);
