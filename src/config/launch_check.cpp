// Dry-run parse of launch lines: the one place where configuration touches
// GStreamer, so that a broken line is refused before anything starts.
#include <gst-mediaserver/config.h>

#include <gst/gst.h>

#include "gms/launch_parse.h"
#include "gms/pattern.h"
#include "gms/ref.h"

namespace gms {
namespace {

bool has_payloader(GstElement* bin) {
  for (const char* name : {"pay0", "dynpay0"}) {
    auto e = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(bin), name));
    if (e)
      return true;
  }
  return false;
}

// When an element is missing, parsing drops it with its properties, so the
// payloader's name can only be looked for in the text.
bool names_payloader(const std::string& launch) {
  static const Pattern re(R"((^|\s)name\s*=\s*"?(dyn)?pay0"?(\s|$|!))");
  return re.found_in(launch);
}

}  // namespace

std::vector<ConfigIssue> Config::check_launch_lines() const {
  std::vector<ConfigIssue> issues, warnings;
  for (const auto& p : paths) {
    if (p.launch.empty())
      continue;  // another kind of source (publisher, proxy)
    const std::string group = "path " + p.name;
    LaunchParse parsed = parse_launch("( " + p.launch + " )", GST_PARSE_FLAG_NONE);
    if (parsed.only_missing_elements()) {
      warnings.push_back({p.origin, p.line, group, "launch",
                          "element not installed (" +
                              (parsed.missing.empty() ? parsed.error->message : parsed.missing) +
                              "): this path will answer 503 until it is"});
      if (!names_payloader(p.launch))
        issues.push_back({p.origin, p.line, group, "launch",
                          "no payloader: name the first one pay0 (or dynpay0)"});
      continue;
    }
    if (parsed.error || !parsed.element) {
      issues.push_back({p.origin, p.line, group, "launch",
                        std::string("does not parse: ") +
                            (parsed.error ? parsed.error->message : "no element")});
      continue;
    }
    GstElement* elem = parsed.element.get();
    if (!GST_IS_BIN(elem) || !has_payloader(elem))
      issues.push_back({p.origin, p.line, group, "launch",
                        "no payloader: name the first one pay0 (or dynpay0)"});
  }
  if (!issues.empty())
    throw ConfigError(std::move(issues));
  return warnings;
}

}  // namespace gms
