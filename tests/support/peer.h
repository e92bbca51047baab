// A client socket for what RawRtsp cannot do: a chosen source address
// (127.0.0.2 is another host to the server), sends that may fail half way
// (a server closing on a megabyte line), and telling a close from silence.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "rtsp_raw.h"

namespace gms::test {

class Peer {
 public:
  explicit Peer(uint16_t port, const char* from = "127.0.0.1");
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool send_all(const std::string& s);
  // Sends in a thread of its own, so that the answer can be read while the
  // server refuses the rest (a send that fails half way is expected).
  void send_in_background(std::string s);
  // One reply (head and Content-Length body), RTSP or HTTP, or status 0.
  RtspReply reply(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The server closed the connection (FIN or reset) within `timeout`;
  // whatever else it sent meanwhile is skipped.
  bool closed_within(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  // Reads what comes before `end`; false at the end of the stream or the
  // deadline.
  bool fill(std::chrono::steady_clock::time_point end);

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
  std::thread sender_;
};

}  // namespace gms::test
