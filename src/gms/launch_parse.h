// One way to parse a launch line, for the config check and the mounts: the
// element, the error, and the names of elements that are not installed.
#pragma once

#include <gst/gst.h>

#include <string>

#include "gms/ref.h"

namespace gms {

struct LaunchParse {
  Ref<GstElement> element;
  GErrorPtr error;
  std::string missing;  // "x264enc, opusenc" when elements are not installed

  bool only_missing_elements() const {
    return error && error->domain == GST_PARSE_ERROR &&
           error->code == GST_PARSE_ERROR_NO_SUCH_ELEMENT;
  }
};

LaunchParse parse_launch(const std::string& line, GstParseFlags flags);

}  // namespace gms
