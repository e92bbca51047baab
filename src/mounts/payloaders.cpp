#include "mounts/payloaders.h"

#include <cstring>

namespace gms::mounts {
namespace {

bool installed(const std::string& factory) {
  auto f = Ref<GstElementFactory>::adopt(gst_element_factory_find(factory.c_str()));
  return static_cast<bool>(f);
}

int int_field(const GstStructure* s, const char* name, int fallback) {
  int v = fallback;
  gst_structure_get_int(s, name, &v);
  return v;
}

bool str_field_is(const GstStructure* s, const char* name, const char* value) {
  const char* v = gst_structure_get_string(s, name);
  return v && std::strcmp(v, value) == 0;
}

// The whitelist. Order of checks follows the caps' media type.
std::optional<PayloadPlan> choose(const GstStructure* s, std::string* why) {
  const std::string type = gst_structure_get_name(s);
  PayloadPlan p;
  auto simple = [&](const char* pay, const char* codec, bool dynamic = true) {
    p.payloader = pay;
    p.codec = codec;
    p.dynamic_pt = dynamic;
    return std::optional<PayloadPlan>(p);
  };
  if (type == "video/x-h264")
    return simple("rtph264pay", "H.264");
  if (type == "video/x-h265")
    return simple("rtph265pay", "H.265");
  if (type == "video/x-vp8")
    return simple("rtpvp8pay", "VP8");
  if (type == "video/x-vp9")
    return simple("rtpvp9pay", "VP9");
  if (type == "video/x-av1")
    return simple("rtpav1pay", "AV1");  // not in GStreamer 1.22: skipped when absent
  // What avidemux calls MPEG-4 Part 2 in AVI files (DivX 4 and 5 are that;
  // DivX 3 is not).
  if (type == "video/x-divx") {
    int version = int_field(s, "divxversion", 0);
    if (version == 4 || version == 5)
      return simple("rtpmp4vpay", "MPEG-4 Part 2");
    return {};
  }
  if (type == "image/jpeg")
    return simple("rtpjpegpay", "MJPEG", false);
  if (type == "video/mpeg") {
    gboolean system = FALSE;
    gst_structure_get_boolean(s, "systemstream", &system);
    int version = int_field(s, "mpegversion", 0);
    if (system)
      return {};
    if (version == 4)
      return simple("rtpmp4vpay", "MPEG-4 Part 2");
    if (version == 1 || version == 2)
      return simple("rtpmpvpay", version == 1 ? "MPEG-1 video" : "MPEG-2 video", false);
    return {};
  }
  if (type == "audio/mpeg") {
    int version = int_field(s, "mpegversion", 0);
    if (version == 1)
      return simple("rtpmpapay", "MPEG audio (MP3)", false);
    if (version == 2 || version == 4) {
      // rtpmp4gpay (RFC 3640, mpeg4-generic as live555 serves AAC) takes raw
      // AAC with its codec data; ADTS files are repacked, not re-encoded.
      if (!str_field_is(s, "stream-format", "raw")) {
        p.before.push_back({"aacparse", ""});
        p.before.push_back({"capsfilter", "audio/mpeg,stream-format=raw"});
      }
      return simple("rtpmp4gpay", "AAC");
    }
    return {};
  }
  if (type == "audio/x-ac3" || type == "audio/ac3")
    return simple("rtpac3pay", "AC-3");
  if (type == "audio/x-opus") {
    if (int_field(s, "channels", 2) > 2) {
      if (why)
        *why = "Opus with more than 2 channels has no RTP mapping here";
      return {};
    }
    return simple("rtpopuspay", "Opus");
  }
  if (type == "audio/x-vorbis")
    return simple("rtpvorbispay", "Vorbis");
  if (type == "audio/x-mulaw")
    return simple("rtppcmupay", "PCMU (G.711 µ-law)", false);
  if (type == "audio/x-alaw")
    return simple("rtppcmapay", "PCMA (G.711 A-law)", false);
  if (type == "audio/G722")
    return simple("rtpg722pay", "G.722", false);
  if (type == "audio/AMR" || type == "audio/AMR-WB")
    return simple("rtpamrpay", type == "audio/AMR" ? "AMR" : "AMR-WB");
  if (type == "audio/x-raw") {
    // L16/L24 are big-endian on the wire: reorder bytes, keep the samples.
    const char* format = gst_structure_get_string(s, "format");
    bool wide = format && (g_str_has_prefix(format, "S24") || g_str_has_prefix(format, "S32") ||
                           g_str_has_prefix(format, "F"));
    p.before.push_back({"audioconvert", ""});
    p.before.push_back({"capsfilter", wide ? "audio/x-raw,format=S24BE" : "audio/x-raw,format=S16BE"});
    return simple(wide ? "rtpL24pay" : "rtpL16pay", wide ? "PCM (L24)" : "PCM (L16)");
  }
  return {};
}

}  // namespace

std::optional<PayloadPlan> plan_payload(const GstCaps* caps, std::string* why) {
  if (!caps || gst_caps_get_size(caps) == 0) {
    if (why)
      *why = "no caps";
    return {};
  }
  std::string reason;
  std::optional<PayloadPlan> plan = choose(gst_caps_get_structure(caps, 0), &reason);
  if (!plan) {
    if (why)
      *why = reason.empty() ? "no RTP payloader for " +
                                  std::string(gst_structure_get_name(gst_caps_get_structure(caps, 0)))
                            : reason;
    return {};
  }
  for (const auto& step : plan->before) {
    if (!installed(step.factory)) {
      if (why)
        *why = step.factory + " is not installed";
      return {};
    }
  }
  if (!installed(plan->payloader)) {
    if (why)
      *why = plan->payloader + " is not installed (no " + plan->codec + " payloader)";
    return {};
  }
  return plan;
}

Ref<GstPad> add_payload_chain(GstBin* bin, const PayloadPlan& plan, unsigned index,
                              std::string* error) {
  std::vector<Ref<GstElement>> chain;
  for (const auto& step : plan.before) {
    auto e = Ref<GstElement>::adopt(gst_element_factory_make(step.factory.c_str(), nullptr));
    if (!e) {
      *error = "cannot make " + step.factory;
      return {};
    }
    if (!step.caps.empty()) {
      auto caps = Ref<GstCaps>::adopt(gst_caps_from_string(step.caps.c_str()));
      g_object_set(e.get(), "caps", caps.get(), nullptr);
    }
    chain.push_back(std::move(e));
  }
  std::string name = "pay" + std::to_string(index);
  auto pay = Ref<GstElement>::adopt(gst_element_factory_make(plan.payloader.c_str(), name.c_str()));
  if (!pay) {
    *error = "cannot make " + plan.payloader;
    return {};
  }
  if (plan.dynamic_pt)
    g_object_set(pay.get(), "pt", 96u + index, nullptr);
  // Parameter sets with every key frame: a viewer that seeks or joins a
  // looping channel decodes at once.
  if (plan.payloader == "rtph264pay" || plan.payloader == "rtph265pay" ||
      plan.payloader == "rtpmp4vpay")
    g_object_set(pay.get(), "config-interval", -1, nullptr);
  // rtpmp4vpay packs small frames together by default: two frames of a
  // 10 fps clip in one packet, sent when the next one came, so a file's
  // stream drifted 2 s late by its end. One frame per packet, sent at once.
  if (plan.payloader == "rtpmp4vpay")
    g_object_set(pay.get(), "max-ptime", gint64(1), nullptr);
  chain.push_back(std::move(pay));
  for (auto& e : chain)
    gst_bin_add(bin, e.get());
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (!gst_element_link(chain[i].get(), chain[i + 1].get())) {
      *error = "cannot link the " + plan.payloader + " chain";
      for (auto& e : chain)
        gst_bin_remove(bin, e.get());
      return {};
    }
  }
  return Ref<GstPad>::adopt(gst_element_get_static_pad(chain.front().get(), "sink"));
}

}  // namespace gms::mounts
