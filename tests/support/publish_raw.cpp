#include "publish_raw.h"

#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {

std::string h264_sdp(unsigned tracks) {
  std::string s =
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
  for (unsigned i = 0; i < tracks; ++i)
    s += "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
         "a=fmtp:96 packetization-mode=1\r\na=control:streamid=" +
         std::to_string(i) + "\r\n";
  return s;
}

std::string describe(const std::string& url, int cseq) {
  return "DESCRIBE " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         "\r\nAccept: application/sdp\r\n\r\n";
}

std::string announce(const std::string& url, const std::string& sdp, int cseq) {
  return "ANNOUNCE " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         "\r\nContent-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
         "\r\n\r\n" + sdp;
}

std::string setup_record(const std::string& url, int cseq, int channel) {
  return "SETUP " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         "\r\nTransport: RTP/AVP/TCP;unicast;interleaved=" + std::to_string(channel) + "-" +
         std::to_string(channel + 1) + ";mode=record\r\n\r\n";
}

std::string setup_play(const std::string& url, int cseq) {
  return "SETUP " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         "\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n";
}

std::string record(const std::string& url, const std::string& session, int cseq) {
  return "RECORD " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         (session.empty() ? "" : "\r\nSession: " + session) + "\r\nRange: npt=0.000-\r\n\r\n";
}

std::string session_id(const std::string& header) { return header.substr(0, header.find(';')); }

std::string interleaved(uint8_t channel, const std::string& data) {
  std::string f = "$";
  f += static_cast<char>(channel);
  f += static_cast<char>((data.size() >> 8) & 0xff);
  f += static_cast<char>(data.size() & 0xff);
  return f + data;
}

std::string rtp_packet(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                       const std::string& payload, bool marker) {
  std::string p(12, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>((marker ? 0x80 : 0) | (pt & 0x7f));
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq & 0xff);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<char>((ts >> (24 - 8 * i)) & 0xff);
    p[8 + i] = static_cast<char>((ssrc >> (24 - 8 * i)) & 0xff);
  }
  return p + payload;
}

bool wait_published(ServerProcess& srv, const std::string& path, unsigned timeout_ms) {
  return wait_published(srv.port(), srv.url(path), timeout_ms);
}

bool wait_published(uint16_t port, const std::string& url, unsigned timeout_ms) {
  return wait_until(
      [&] {
        RawRtsp raw(port);
        if (raw.request(describe(url, 1)).status == 200)
          return true;
        g_usleep(100000);
        return false;
      },
      std::chrono::milliseconds(timeout_ms));
}

}  // namespace gms::test
