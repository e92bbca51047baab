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
  explicit RawRtsp(uint16_t port);
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
  Ref<GSocketConnection> conn_;
  std::string buffer_;
};

}  // namespace gms::test
