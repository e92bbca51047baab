#include "mounts/announce_check.h"

#include <glib.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string_view>

#include "gms/ref.h"
#include "mounts/sdp_text_check.h"

namespace gms::mounts {
namespace {

// Encodings taken at any payload type. Others are taken at a dynamic one
// (96-127) only: the relay carries their packets as they came, and nothing
// on the server depayloads them.
const std::set<std::string> kEncodings = {
    "H264", "H265", "VP8", "VP9", "AV1", "JPEG", "MP4V-ES", "MPEG4-GENERIC", "MP4A-LATM",
    "OPUS", "PCMU", "PCMA", "G722", "MPA", "AC3", "L16", "L24",
};
constexpr long kFirstDynamicPt = 96;

// Refused at any payload type, though relaying them would cost us nothing:
// a viewer's player would depayload them, and the depayloaders for vendor
// ("X-") encodings and CELT are the ones with a record of memory faults on
// crafted packets (GStreamer's QDM2, SV3V, …). Viewers of a path are not to
// be exposed to them by whoever publishes it.
bool refused_encoding(const std::string& name) {
  return g_str_has_prefix(name.c_str(), "X-") || name == "CELT";
}

// Linear PCM: the channel counts that have a common layout (mono, stereo,
// quad, 5.1, 7.1); an odd layout is where PCM depayloaders' channel
// mapping has gone wrong.
bool pcm_channels_ok(const std::string& encoding, const char* channels) {
  if (encoding != "L16" && encoding != "L24" && encoding != "L8")
    return true;
  if (!channels)
    return true;  // one channel
  char* end = nullptr;
  long n = std::strtol(channels, &end, 10);
  return *end == '\0' && (n == 1 || n == 2 || n == 4 || n == 6 || n == 8);
}

struct StaticPt {
  int pt;
  const char* encoding;
  long rate;
};
// Static payload types (RFC 3551) that need no rtpmap.
constexpr StaticPt kStaticPts[] = {
    {0, "PCMU", 8000}, {8, "PCMA", 8000},    {9, "G722", 8000},
    {10, "L16", 44100}, {11, "L16", 44100}, {14, "MPA", 90000}, {26, "JPEG", 90000},
};

const StaticPt* static_pt(long pt) {
  for (const auto& s : kStaticPts)
    if (s.pt == pt)
      return &s;
  return nullptr;
}

// An encoding name goes into the viewers' SDP and into caps as it is: a
// token of letters, digits, '-', '_' and '.' (RFC 4566's token is wider,
// real names are not).
bool plain_token(const std::string& name) {
  if (name.empty() || name.size() > 32)
    return false;
  for (char c : name)
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

// A list of base64 parameter sets (RFC 6184's sprop-parameter-sets, RFC
// 7798's sprop-vps/-sps/-pps): each element non-empty. An empty one is no
// parameter set at all, and players take the list as it is from the SDP
// their DESCRIBE returns.
bool base64_list(std::string_view list) {
  for (size_t pos = 0;;) {
    size_t comma = list.find(',', pos);
    std::string_view item = list.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    size_t pad = item.size();
    while (pad > 0 && item[pad - 1] == '=')
      --pad;
    if (pad == 0 || item.size() - pad > 2)
      return false;
    for (char c : item.substr(0, pad))
      if (!g_ascii_isalnum(c) && c != '+' && c != '/')
        return false;
    if (comma == std::string_view::npos)
      return true;
    pos = comma + 1;
  }
}

const std::set<std::string> kParameterSets = {"sprop-parameter-sets", "sprop-vps", "sprop-sps",
                                              "sprop-pps"};

// The media's fmtp line for `pt`: its parameter sets, if any, are lists of
// base64 items.
std::string fmtp_problem(const GstSDPMedia* m, long pt) {
  for (guint a = 0;; ++a) {
    const char* v = gst_sdp_media_get_attribute_val_n(m, "fmtp", a);
    if (!v)
      return {};
    char* rest = nullptr;
    if (std::strtol(v, &rest, 10) != pt || rest == v)
      continue;
    GStrvPtr params(g_strsplit(rest, ";", -1));
    for (gchar** p = params.get(); *p; ++p) {
      std::string_view param = g_strstrip(*p);
      size_t eq = param.find('=');
      GCharPtr key(g_ascii_strdown(param.data(), gssize(std::min(eq, param.size()))));
      if (kParameterSets.count(key.get()) &&
          (eq == std::string_view::npos || !base64_list(param.substr(eq + 1))))
        return std::string(key.get()) + " is not a list of base64 parameter sets";
    }
  }
}

AnnounceCheck refuse(int status, std::string why) {
  AnnounceCheck c;
  c.status = status;
  c.reason = std::move(why);
  return c;
}

}  // namespace

AnnounceCheck check_announce_sdp(const GstSDPMessage* sdp) {
  guint n = gst_sdp_message_medias_len(sdp);
  if (n == 0)
    return refuse(400, "the SDP has no media");
  if (n > kMaxPublishedTracks)
    return refuse(400, "the SDP has " + std::to_string(n) + " media; at most " +
                           std::to_string(kMaxPublishedTracks) + " are accepted");
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(sdp, i);
    std::string where = "media " + std::to_string(i) + ": ";
    const char* media = gst_sdp_media_get_media(m);
    if (!media || (g_strcmp0(media, "video") != 0 && g_strcmp0(media, "audio") != 0))
      return refuse(415, where + "only audio and video are accepted");
    const char* proto = gst_sdp_media_get_proto(m);
    // RTP/SAVP: an SRTP publisher; the path's profile (srtp=) decides at
    // SETUP whether it is taken.
    if (!proto || !(g_str_has_prefix(proto, "RTP/AVP") || g_str_has_prefix(proto, "RTP/SAVP")))
      return refuse(415, where + "transport '" + (proto ? proto : "") +
                             "' is not RTP/AVP or RTP/SAVP");
    if (gst_sdp_media_formats_len(m) != 1)
      return refuse(415, where + "exactly one payload format per media is accepted");
    const char* fmt = gst_sdp_media_get_format(m, 0);
    char* end = nullptr;
    long pt = fmt ? std::strtol(fmt, &end, 10) : -1;
    if (!fmt || *end != '\0' || pt < 0 || pt > 127)
      return refuse(400, where + "bad payload type");
    std::string encoding;
    std::string channels;  // the rtpmap's third field, if any
    bool has_channels = false;
    long rate = -1;
    for (guint a = 0;; ++a) {
      const char* v = gst_sdp_media_get_attribute_val_n(m, "rtpmap", a);
      if (!v)
        break;
      // "96 H264/90000[/channels]"
      char* rest = nullptr;
      long p = std::strtol(v, &rest, 10);
      if (p != pt || !rest)
        continue;
      while (*rest == ' ')
        ++rest;
      GStrvPtr parts(g_strsplit(rest, "/", 3));
      if (!parts.get()[0] || !parts.get()[1])
        return refuse(400, where + "bad rtpmap '" + v + "'");
      GCharPtr up(g_ascii_strup(parts.get()[0], -1));
      encoding = up.get();
      rate = std::strtol(parts.get()[1], &end, 10);
      if (*end != '\0')
        rate = -1;
      has_channels = parts.get()[2] != nullptr;
      channels = has_channels ? parts.get()[2] : "";
    }
    if (encoding.empty()) {
      const StaticPt* known = static_pt(pt);
      if (!known)
        return refuse(400, where + "payload type " + std::to_string(pt) + " has no rtpmap");
      encoding = known->encoding;
      rate = known->rate;
    }
    if (rate <= 0 || rate > 1000000)
      return refuse(400, where + "bad clock rate");
    if (!plain_token(encoding))
      return refuse(400, where + "bad encoding name");
    if (refused_encoding(encoding))
      return refuse(415, where + "encoding " + encoding + " is not accepted");
    if (!pcm_channels_ok(encoding, has_channels ? channels.c_str() : nullptr))
      return refuse(415, where + "encoding " + encoding + " with " + channels +
                             " channels is not accepted (1, 2, 4, 6 or 8 are)");
    if (std::string why = fmtp_problem(m, pt); !why.empty())
      return refuse(400, where + why);
    if (!kEncodings.count(encoding) && pt < kFirstDynamicPt)
      return refuse(415, where + "encoding " + encoding + " at the static payload type " +
                             std::to_string(pt) + " is not accepted (a dynamic one, 96-127, is)");
  }
  AnnounceCheck ok;
  ok.ok = true;
  ok.status = 200;
  ok.tracks = n;
  return ok;
}

AnnounceCheck check_announce_body(const guint8* body, guint size) {
  if (!body || size == 0)
    return refuse(400, "no SDP in the ANNOUNCE");
  std::string why = sdp_text_problem({reinterpret_cast<const char*>(body), size});
  if (!why.empty())
    return refuse(400, "the SDP's " + why);
  GstSDPMessage* raw = nullptr;
  gst_sdp_message_new(&raw);
  UniquePtr<GstSDPMessage, gst_sdp_message_free> sdp(raw);
  if (gst_sdp_message_parse_buffer(body, size, sdp.get()) != GST_SDP_OK)
    return refuse(400, "the SDP does not parse");
  return check_announce_sdp(sdp.get());
}

}  // namespace gms::mounts
