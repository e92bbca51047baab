#include "first_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "publish_raw.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

bool h264_key(const uint8_t* p, size_t n) {
  if (n < 13)
    return false;
  size_t off = 12 + 4 * (p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (n < off + 4)
      return false;
    off += 4 + 4 * ((p[off + 2] << 8) | p[off + 3]);
  }
  if (off >= n)
    return false;
  uint8_t type = p[off] & 0x1f;
  if (type == 5 || type == 7)
    return true;
  if (type == 24 && off + 3 < n)
    return (p[off + 3] & 0x1f) == 7 || (p[off + 3] & 0x1f) == 5;
  if (type == 28 && off + 1 < n)
    return (p[off + 1] & 0x80) && (p[off + 1] & 0x1f) == 5;
  return false;
}

// seq=N from the first RTP-Info entry; -1 if absent.
long rtp_info_seq(const std::string& info) {
  auto pos = info.find("seq=");
  return pos == std::string::npos ? -1 : std::strtol(info.c_str() + pos + 4, nullptr, 10);
}

bool newer_or_equal(uint16_t seq, long base) {
  return base < 0 || static_cast<int16_t>(seq - static_cast<uint16_t>(base)) >= 0;
}

}  // namespace

FirstKey measure_first_key(uint16_t port, const std::string& url, bool tcp, unsigned timeout_ms) {
  FirstKey r;
  RawRtsp raw(port);
  RtspReply d = raw.request(describe(url, 1));
  if (d.status != 200) {
    r.error = "DESCRIBE " + std::to_string(d.status);
    return r;
  }
  int udp = -1;
  std::string transport;
  if (tcp) {
    transport = "RTP/AVP/TCP;unicast;interleaved=0-1";
  } else {
    udp = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(udp, reinterpret_cast<sockaddr*>(&a), &len);
    int p = ntohs(a.sin_port);
    transport = "RTP/AVP;unicast;client_port=" + std::to_string(p) + "-" + std::to_string(p + 1);
  }
  RtspReply s = raw.request("SETUP " + url + "/stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: " +
                            transport + "\r\n\r\n");
  if (s.status != 200) {
    r.error = "SETUP " + std::to_string(s.status);
    if (udp >= 0)
      close(udp);
    return r;
  }
  std::string session = session_id(s.header("Session"));
  auto t0 = Clock::now();
  RtspReply p = raw.request("PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + session +
                            "\r\nRange: npt=now-\r\n\r\n");
  if (p.status != 200) {
    r.error = "PLAY " + std::to_string(p.status);
    if (udp >= 0)
      close(udp);
    return r;
  }
  long base = rtp_info_seq(p.header("RTP-Info"));
  auto end = t0 + std::chrono::milliseconds(timeout_ms);
  if (tcp) {
    // read_reply() skips interleaved frames; read them here instead.
    std::string buf;
    while (Clock::now() < end) {
      std::string chunk;
      if (!raw.read_frames(chunk, 100))
        continue;
      buf += chunk;
      while (buf.size() >= 4 && buf[0] == '$') {
        size_t len = (uint8_t(buf[2]) << 8) | uint8_t(buf[3]);
        if (buf.size() < 4 + len)
          break;
        auto* pkt = reinterpret_cast<const uint8_t*>(buf.data() + 4);
        if (buf[1] == 0 && len >= 12 && newer_or_equal(uint16_t((pkt[2] << 8) | pkt[3]), base) &&
            h264_key(pkt, len)) {
          r.ok = true;
          r.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          return r;
        }
        buf.erase(0, 4 + len);
      }
      // Skip anything that is not a data frame (an RTSP message).
      if (!buf.empty() && buf[0] != '$') {
        auto e = buf.find("\r\n\r\n");
        if (e == std::string::npos)
          continue;
        buf.erase(0, e + 4);
      }
    }
    r.error = "no key frame";
    return r;
  }
  uint8_t pkt[65536];
  while (Clock::now() < end) {
    pollfd pf{udp, POLLIN, 0};
    if (poll(&pf, 1, 100) <= 0)
      continue;
    ssize_t n = recv(udp, pkt, sizeof pkt, 0);
    if (n >= 12 && newer_or_equal(uint16_t((pkt[2] << 8) | pkt[3]), base) &&
        h264_key(pkt, static_cast<size_t>(n))) {
      r.ok = true;
      r.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      close(udp);
      return r;
    }
  }
  close(udp);
  r.error = "no key frame";
  return r;
}

}  // namespace gms::test
