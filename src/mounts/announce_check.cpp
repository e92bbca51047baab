#include "mounts/announce_check.h"

#include <glib.h>

#include <cstdlib>
#include <set>

#include "gms/ref.h"

namespace gms::mounts {
namespace {

const std::set<std::string> kEncodings = {
    "H264", "H265", "VP8", "VP9", "AV1", "JPEG", "MP4V-ES",
    "MPEG4-GENERIC", "MP4A-LATM", "OPUS", "PCMU", "PCMA", "G722",
};

// Static payload types (RFC 3551) that need no rtpmap.
const char* static_encoding(int pt) {
  switch (pt) {
    case 0:
      return "PCMU";
    case 8:
      return "PCMA";
    case 9:
      return "G722";
    case 26:
      return "JPEG";
    default:
      return nullptr;
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
    if (!proto || !g_str_has_prefix(proto, "RTP/AVP"))
      return refuse(415, where + "transport '" + (proto ? proto : "") + "' is not RTP/AVP");
    if (gst_sdp_media_formats_len(m) != 1)
      return refuse(415, where + "exactly one payload format per media is accepted");
    const char* fmt = gst_sdp_media_get_format(m, 0);
    char* end = nullptr;
    long pt = fmt ? std::strtol(fmt, &end, 10) : -1;
    if (!fmt || *end != '\0' || pt < 0 || pt > 127)
      return refuse(400, where + "bad payload type");
    std::string encoding;
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
    }
    if (encoding.empty()) {
      const char* enc = static_encoding(static_cast<int>(pt));
      if (!enc)
        return refuse(400, where + "payload type " + std::to_string(pt) + " has no rtpmap");
      encoding = enc;
      rate = encoding == "JPEG" ? 90000 : 8000;
    }
    if (rate <= 0 || rate > 1000000)
      return refuse(400, where + "bad clock rate");
    if (!kEncodings.count(encoding))
      return refuse(415, where + "encoding " + encoding + " is not accepted");
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
  GstSDPMessage* raw = nullptr;
  gst_sdp_message_new(&raw);
  UniquePtr<GstSDPMessage, gst_sdp_message_free> sdp(raw);
  if (gst_sdp_message_parse_buffer(body, size, sdp.get()) != GST_SDP_OK)
    return refuse(400, "the SDP does not parse");
  return check_announce_sdp(sdp.get());
}

}  // namespace gms::mounts
