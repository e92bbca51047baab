#include "gms/launch_parse.h"

namespace gms {

LaunchParse parse_launch(const std::string& line, GstParseFlags flags) {
  LaunchParse r;
  auto ctx = UniquePtr<GstParseContext, gst_parse_context_free>(gst_parse_context_new());
  r.element = Ref<GstElement>::adopt(
      gst_parse_launch_full(line.c_str(), ctx.get(), flags, out(r.error)));
  GStrvPtr missing(gst_parse_context_get_missing_elements(ctx.get()));
  for (gchar** m = missing.get(); m && *m; ++m)
    r.missing += std::string(r.missing.empty() ? "" : ", ") + *m;
  return r;
}

}  // namespace gms
