// A TCP viewer that plays and then never reads again: a 4 KB receive
// buffer (SO_RCVBUF), DESCRIBE, SETUP of stream=0 interleaved, PLAY, and
// not a byte read after the PLAY is sent. The server's send buffer, then
// its TCP backlog for this viewer, fill. Or one that reads, but slowly
// (read_slowly(): 1 KB a second, say).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

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

  // From now on reads at most `bytes` once a second, on a thread of its
  // own, until destroyed.
  void read_slowly(size_t bytes);
  size_t bytes_read() const { return read_; }
  // The server closed the connection (seen by read_slowly()'s reads).
  bool closed() const { return closed_; }

 private:
  // Sends `request` and reads its reply (with a body if it has one).
  std::string ask(const std::string& request);

  void read_loop(size_t bytes);

  int fd_ = -1;
  bool ok_ = false;
  std::mutex lock_;  // with wake_: stop_ ends the reads at once
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<size_t> read_{0};
  std::atomic<bool> closed_{false};
  std::thread reader_;
  std::string error_;
};

}  // namespace gms::test
