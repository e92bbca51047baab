// A TCP viewer that plays and then never reads again: a 4 KB receive
// buffer (SO_RCVBUF), DESCRIBE, SETUP of stream=0 interleaved, PLAY, and
// not a byte read after the PLAY is sent. The server's send buffer, then
// its TCP backlog for this viewer, fill.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gms::test {

class StuckTcpViewer {
 public:
  StuckTcpViewer(uint16_t port, const std::string& url);
  ~StuckTcpViewer();
  StuckTcpViewer(const StuckTcpViewer&) = delete;
  StuckTcpViewer& operator=(const StuckTcpViewer&) = delete;

  // The PLAY went out after a DESCRIBE and a SETUP answered 200.
  bool ok() const { return ok_; }
  // What went wrong otherwise (the reply, or the step).
  const std::string& error() const { return error_; }
  // Bytes the server's end of this connection (its port `server_port`)
  // holds unsent or unacknowledged (/proc/net/tcp); 0 if not found. Once
  // its send buffer is full, what more comes waits in the server.
  size_t server_unsent(uint16_t server_port) const;

 private:
  // Sends `request` and reads its reply (with a body if it has one).
  std::string ask(const std::string& request);

  int fd_ = -1;
  bool ok_ = false;
  std::string error_;
};

}  // namespace gms::test
