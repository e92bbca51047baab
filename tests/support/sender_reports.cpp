#include "sender_reports.h"

#include <glib.h>
#include <gst/rtp/gstrtcpbuffer.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "rtsp_raw.h"

namespace gms::test {

namespace {

constexpr int64_t kNtpToUnixS = 2208988800LL;

uint32_t be32(const std::string& d, size_t at) {
  return (uint32_t(uint8_t(d[at])) << 24) | (uint32_t(uint8_t(d[at + 1])) << 16) |
         (uint32_t(uint8_t(d[at + 2])) << 8) | uint32_t(uint8_t(d[at + 3]));
}

// The media sections of an SDP: media type, clock rate and control.
struct SdpMedia {
  std::string media, control;
  uint32_t clock_rate = 0;
};

std::vector<SdpMedia> parse_sdp(const std::string& sdp) {
  std::vector<SdpMedia> out;
  std::istringstream in(sdp);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.rfind("m=", 0) == 0) {
      out.push_back({});
      out.back().media = line.substr(2, line.find(' ') - 2);
    } else if (!out.empty() && line.rfind("a=control:", 0) == 0) {
      out.back().control = line.substr(10);
    } else if (!out.empty() && line.rfind("a=rtpmap:", 0) == 0) {
      auto slash = line.find('/');
      if (slash != std::string::npos)
        out.back().clock_rate = uint32_t(std::strtoul(line.c_str() + slash + 1, nullptr, 10));
    }
  }
  return out;
}

void note_rtcp(SrTrack& t, const std::string& data, int64_t now) {
  auto* buf = gst_rtcp_buffer_new_copy_data(data.data(), guint(data.size()));
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp)) {
    GstRTCPPacket p;
    for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &p); more;
         more = gst_rtcp_packet_move_to_next(&p)) {
      if (gst_rtcp_packet_get_type(&p) != GST_RTCP_TYPE_SR)
        continue;
      guint32 ssrc = 0, rtptime = 0, packets = 0, octets = 0;
      guint64 ntp = 0;
      gst_rtcp_packet_sr_get_sender_info(&p, &ssrc, &ntp, &rtptime, &packets, &octets);
      t.reports.push_back({now, ntp, rtptime, ssrc, packets});
    }
    gst_rtcp_buffer_unmap(&rtcp);
  }
  gst_buffer_unref(buf);
}

}  // namespace

int64_t ntp_to_unix_us(uint64_t ntp) {
  const int64_t s = int64_t(ntp >> 32) - kNtpToUnixS;
  const int64_t frac_us = int64_t(((ntp & 0xffffffffu) * 1000000u) >> 32);
  return s * 1000000 + frac_us;
}

SrCapture capture_sender_reports(uint16_t port, const std::string& path,
                                 std::chrono::milliseconds duration) {
  SrCapture c;
  RawRtsp conn(port);
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + path;
  RtspReply r = conn.request(rtsp_request("DESCRIBE", url, 1, "", "Accept: application/sdp\r\n"));
  if (r.status != 200) {
    c.error = "DESCRIBE: " + r.text;
    return c;
  }
  std::string base = r.header("Content-Base");
  if (base.empty())
    base = url + "/";
  const auto medias = parse_sdp(r.text.substr(r.text.find("\r\n\r\n") + 4));
  std::string session;
  int cseq = 2;
  for (size_t i = 0; i < medias.size(); ++i) {
    const auto& m = medias[i];
    const std::string target = m.control.rfind("rtsp://", 0) == 0 ? m.control : base + m.control;
    const std::string channels = std::to_string(2 * i) + "-" + std::to_string(2 * i + 1);
    r = conn.request(rtsp_request("SETUP", target, cseq++, session,
                                  "Transport: RTP/AVP/TCP;unicast;interleaved=" + channels + "\r\n"));
    if (r.status != 200) {
      c.error = "SETUP " + target + ": " + r.text;
      return c;
    }
    session = r.header("Session").substr(0, r.header("Session").find(';'));
    c.tracks.push_back({m.media, m.clock_rate, 0, {}, {}});
  }
  r = conn.request(rtsp_request("PLAY", base, cseq++, session, "Range: npt=0.000-\r\n"));
  if (r.status != 200) {
    c.error = "PLAY: " + r.text;
    return c;
  }
  c.play_us = g_get_real_time();
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    RawRtsp::Frame f = conn.read_interleaved(std::max(left, std::chrono::milliseconds(1)));
    if (f.channel < 0)
      break;
    const int64_t now = g_get_real_time();
    const size_t track = size_t(f.channel) / 2;
    if (track >= c.tracks.size())
      continue;
    if (f.channel % 2 == 0 && f.data.size() >= 12) {
      if (c.tracks[track].packets.empty())
        c.tracks[track].ssrc = be32(f.data, 8);
      c.tracks[track].packets.push_back({now, be32(f.data, 4)});
    }
    else if (f.channel % 2 == 1)
      note_rtcp(c.tracks[track], f.data, now);
  }
  conn.request(rtsp_request("TEARDOWN", base, cseq++, session), std::chrono::seconds(2));
  return c;
}

SrFit fit_report(const SrCapture& c, const SrTrack& t, const SrTrack::Report& r,
                 std::chrono::milliseconds window, std::chrono::milliseconds settle) {
  SrFit fit;
  if (t.clock_rate == 0)
    return fit;
  const int64_t wall = ntp_to_unix_us(r.ntp);
  std::vector<double> offsets;
  for (const auto& p : t.packets) {
    if (p.arrival_us < c.play_us + settle.count() * 1000 ||
        std::llabs(p.arrival_us - r.arrival_us) > window.count() * 1000)
      continue;
    const int64_t ticks = int32_t(p.ts - r.ts);
    const int64_t mapped = wall + ticks * 1000000 / int64_t(t.clock_rate);
    offsets.push_back(double(p.arrival_us - mapped) / 1000.0);
  }
  if (offsets.empty())
    return fit;
  std::nth_element(offsets.begin(), offsets.begin() + offsets.size() / 2, offsets.end());
  fit.ok = true;
  fit.offset_ms = offsets[offsets.size() / 2];
  fit.packets = offsets.size();
  return fit;
}

std::string describe(const SrCapture& c) {
  std::ostringstream o;
  o << c.error;
  for (const auto& t : c.tracks) {
    o << t.media << "/" << t.clock_rate << " ssrc=" << std::hex << t.ssrc << std::dec << ": "
      << t.packets.size() << " packets, "
      << t.reports.size() << " SRs\n";
    for (const auto& r : t.reports) {
      SrFit f = fit_report(c, t, r);
      o << "  SR at +" << (r.arrival_us - c.play_us) / 1000 << " ms ntp=" << (r.ntp >> 32) << "."
        << (r.ntp & 0xffffffffu) << " rtp=" << r.ts << " ssrc=" << std::hex << r.ssrc << std::dec
        << " count=" << r.packets;
      if (f.ok)
        o << " offset=" << f.offset_ms << " ms over " << f.packets << " packets";
      o << "\n";
    }
    if (!t.packets.empty())
      o << "  first rtp=" << t.packets.front().ts << " last rtp=" << t.packets.back().ts << "\n";
  }
  return o.str();
}

}  // namespace gms::test
