#include "rtsp_raw.h"

#include <algorithm>
#include <cstdlib>

namespace gms::test {

std::string rtsp_request(const std::string& method, const std::string& target, int cseq,
                         const std::string& session, const std::string& headers) {
  return method + " " + target + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) + "\r\n" +
         (session.empty() ? "" : "Session: " + session + "\r\n") + headers + "\r\n";
}

std::string RtspReply::header(const std::string& name) const {
  std::string lower_text = text, key = name + ":";
  std::transform(lower_text.begin(), lower_text.end(), lower_text.begin(), ::tolower);
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  auto pos = lower_text.find("\r\n" + key);
  if (pos == std::string::npos)
    return {};
  pos += 2 + key.size();
  auto end = text.find("\r\n", pos);
  std::string v = text.substr(pos, end - pos);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

RawRtsp::RawRtsp(uint16_t port, const std::string& tls_ca) {
  auto client = Ref<GSocketClient>::adopt(g_socket_client_new());
  g_socket_client_set_timeout(client.get(), 10);
  conn_ = Ref<GSocketConnection>::adopt(
      g_socket_client_connect_to_host(client.get(), "127.0.0.1", port, nullptr, nullptr));
  if (conn_ && !tls_ca.empty())
    start_tls(port, tls_ca);
}

void RawRtsp::start_tls(uint16_t port, const std::string& ca) {
  auto db = Ref<GTlsDatabase>::adopt(g_tls_file_database_new(ca.c_str(), nullptr));
  auto identity = Ref<GSocketConnectable>::adopt(g_network_address_new("127.0.0.1", port));
  auto tls = Ref<GIOStream>::adopt(
      g_tls_client_connection_new(G_IO_STREAM(conn_.get()), identity.get(), nullptr));
  if (!db || !tls) {
    conn_.reset();
    return;
  }
  g_tls_connection_set_database(G_TLS_CONNECTION(tls.get()), db.get());
  if (!g_tls_connection_handshake(G_TLS_CONNECTION(tls.get()), nullptr, nullptr)) {
    conn_.reset();
    return;
  }
  tls_ = tls;
}

gssize RawRtsp::receive(char* buf, size_t size, std::chrono::milliseconds timeout) {
  GSocket* sock = g_socket_connection_get_socket(conn_.get());
  const gint64 end = g_get_monotonic_time() + gint64(timeout.count()) * 1000;
  for (;;) {
    auto* in = G_POLLABLE_INPUT_STREAM(
        g_io_stream_get_input_stream(tls_ ? tls_.get() : G_IO_STREAM(conn_.get())));
    // The TLS layer may hold decrypted bytes the socket no longer shows.
    const gint64 left = end - g_get_monotonic_time();
    if (!g_pollable_input_stream_is_readable(in) &&
        (left <= 0 || !g_socket_condition_timed_wait(sock, G_IO_IN, left, nullptr, nullptr)))
      return -1;
    GErrorPtr err;
    gssize n = g_pollable_input_stream_read_nonblocking(in, buf, size, nullptr, out(err));
    if (n >= 0 || !g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      return n;
  }
}

bool RawRtsp::send(const std::string& bytes) {
  if (!conn_)
    return false;
  GOutputStream* out = g_io_stream_get_output_stream(tls_ ? tls_.get() : G_IO_STREAM(conn_.get()));
  gsize written = 0;
  return g_output_stream_write_all(out, bytes.data(), bytes.size(), &written, nullptr, nullptr);
}

RtspReply RawRtsp::read_reply(std::chrono::milliseconds timeout) {
  RtspReply r;
  if (!conn_)
    return r;
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto head_end = buffer_.find("\r\n\r\n");
    // Skip interleaved data frames ($ channel len) that may precede replies.
    while (!buffer_.empty() && buffer_[0] == '$' && buffer_.size() >= 4) {
      size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() < 4 + len)
        break;
      buffer_.erase(0, 4 + len);
      head_end = buffer_.find("\r\n\r\n");
    }
    if (head_end != std::string::npos && buffer_[0] != '$') {
      std::string head = buffer_.substr(0, head_end + 4);
      RtspReply tmp;
      tmp.text = head;
      size_t body = static_cast<size_t>(std::atoi(tmp.header("Content-Length").c_str()));
      if (buffer_.size() >= head.size() + body) {
        r.text = buffer_.substr(0, head.size() + body);
        buffer_.erase(0, head.size() + body);
        if (r.text.rfind("RTSP/1.0 ", 0) == 0)
          r.status = std::atoi(r.text.c_str() + 9);
        return r;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= end)
      return r;
    char buf[8192];
    gssize n = receive(buf, sizeof buf, std::chrono::duration_cast<std::chrono::milliseconds>(end - now));
    if (n <= 0)
      return r;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool RawRtsp::read_frames(std::string& out, unsigned timeout_ms) {
  if (!buffer_.empty()) {
    out = std::move(buffer_);
    buffer_.clear();
    return true;
  }
  if (!conn_)
    return false;
  char buf[65536];
  gssize n = receive(buf, sizeof buf, std::chrono::milliseconds(timeout_ms));
  if (n <= 0)
    return false;
  out.assign(buf, static_cast<size_t>(n));
  return true;
}

RawRtsp::Frame RawRtsp::read_interleaved(std::chrono::milliseconds timeout) {
  Frame f;
  if (!conn_)
    return f;
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Anything but a data frame here (none is expected) is skipped.
    auto dollar = buffer_.find('$');
    buffer_.erase(0, dollar == std::string::npos ? buffer_.size() : dollar);
    if (buffer_.size() >= 4) {
      size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() >= 4 + len) {
        f.channel = static_cast<unsigned char>(buffer_[1]);
        f.data = buffer_.substr(4, len);
        buffer_.erase(0, 4 + len);
        return f;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= end)
      return f;
    char buf[16384];
    gssize n = receive(buf, sizeof buf, std::chrono::duration_cast<std::chrono::milliseconds>(end - now));
    if (n <= 0)
      return f;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string play_over_tcp(RawRtsp& conn, const std::string& url) {
  if (conn.request(rtsp_request("DESCRIBE", url, 1, "", "Accept: application/sdp\r\n")).status != 200)
    return {};
  RtspReply s = conn.request(rtsp_request("SETUP", url + "/stream=0", 2, "",
                                          "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"));
  std::string id = s.header("Session");
  id = id.substr(0, id.find(';'));
  if (s.status != 200 || id.empty())
    return {};
  return conn.request(rtsp_request("PLAY", url, 3, id)).status == 200 ? id : std::string();
}

RtspReply RawRtsp::request(const std::string& request, std::chrono::milliseconds timeout) {
  if (!send(request))
    return {};
  return read_reply(timeout);
}

}  // namespace gms::test
