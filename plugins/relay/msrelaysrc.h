// C++ access to msrelaysrc for the server (linked into the same library).
#pragma once

#include <gst/gst.h>

#include <vector>

#include "gms/ref.h"

namespace gms::relay {

// The packets an msrelaysrc has output since its last key frame, as sent
// (after rewriting), oldest first; empty if it is not an msrelaysrc, the
// GOP cache is off, or no key frame was output yet. For a viewer joining a
// running media: these packets make its first picture.
std::vector<Ref<GstBuffer>> relay_src_gop(GstElement* element);

}  // namespace gms::relay
