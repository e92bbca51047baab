// A raw RTSP connection for requests no polite client sends: hostile
// headers, other connections' sessions, oversized bodies.
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <string>

#include "gms/ref.h"

namespace gms::test {

struct RtspReply {
  int status = 0;  // 0: no reply (closed or timed out)
  std::string text;
  std::string header(const std::string& name) const;
};

// "METHOD target RTSP/1.0" with CSeq, Session (when not empty) and the
// given extra header lines, ready for RawRtsp::request.
std::string rtsp_request(const std::string& method, const std::string& target, int cseq,
                         const std::string& session, const std::string& headers = "");

class RawRtsp;
// DESCRIBE, SETUP of `url`'s stream=0 over TCP (interleaved 0-1) and PLAY
// on `conn`: the session id, or empty when one of them was not answered 200.
std::string play_over_tcp(RawRtsp& conn, const std::string& url);

class RawRtsp {
 public:
  // Plain RTSP; with `tls_ca` (a CA file) RTSPS, the server's certificate
  // checked against that CA for 127.0.0.1 (not connected when the
  // handshake fails).
  explicit RawRtsp(uint16_t port, const std::string& tls_ca = "");
  bool connected() const { return static_cast<bool>(conn_); }
  // Sends `request` as is and reads one reply (headers + Content-Length body).
  RtspReply request(const std::string& request,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends bytes without waiting for anything.
  bool send(const std::string& bytes);
  // Reads one reply.
  RtspReply read_reply(std::chrono::milliseconds timeout);
  // Takes whatever bytes are buffered or arrive within `timeout_ms`
  // (interleaved data frames included); false if none.
  bool read_frames(std::string& out, unsigned timeout_ms);
  // Reads the next interleaved frame ($ channel length data) after PLAY over
  // TCP; channel -1 when none came before the deadline or the connection
  // closed.
  struct Frame {
    int channel = -1;
    std::string data;
  };
  Frame read_interleaved(std::chrono::milliseconds timeout);

 private:
  void start_tls(uint16_t port, const std::string& ca);
  // Waits up to `timeout` for bytes and reads what came: > 0 bytes, 0 at
  // the end of the stream, < 0 none in time (or an error).
  gssize receive(char* buf, size_t size, std::chrono::milliseconds timeout);

  Ref<GSocketConnection> conn_;
  Ref<GIOStream> tls_;  // over conn_ for RTSPS
  std::string buffer_;
};

}  // namespace gms::test
