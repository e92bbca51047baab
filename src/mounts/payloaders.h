// The payloaders files are served with: a fixed whitelist chosen by caps,
// never autoplugged (the demuxers and payloaders we expose
// are the attack surface). A track whose caps are not in the list is left out
// of the SDP; the others still play. Nothing is transcoded: the only
// elements before a payloader repack (AAC ADTS → raw) or reorder bytes
// (PCM little → big endian).
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::mounts {

struct PayloadStep {
  std::string factory;  // element factory name
  std::string caps;     // for "capsfilter": the caps it forces
};

struct PayloadPlan {
  std::vector<PayloadStep> before;  // elements between parsebin and the payloader
  std::string payloader;            // "rtph264pay"
  bool dynamic_pt = true;           // pt = 96 + track index (else the payloader's static one)
  std::string codec;                // "H.264", for logs and --check
};

// The plan for a parsed track with these caps; empty when no payloader is
// whitelisted for them or the payloader is not installed (`why` says which).
std::optional<PayloadPlan> plan_payload(const GstCaps* caps, std::string* why);

// Adds `plan`'s elements and the payloader named "pay<index>" to `bin`,
// linked in order, and returns the sink pad of the first one (null on failure, with
// `error` set; nothing is left in the bin then).
Ref<GstPad> add_payload_chain(GstBin* bin, const PayloadPlan& plan, unsigned index,
                              std::string* error);

}  // namespace gms::mounts
