// A reference viewer for the fault cases: RTP over TCP, every sequence
// number checked, so that "it lost nothing" is a count and not a feeling;
// and what a server process holds (fds, threads, resident memory).
#pragma once

#include <gio/gio.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "rtsp_raw.h"

namespace gms::test {

// How a PacketViewer connects: RTSPS when `tls_ca` names the CA file to
// check the server against; as `user` (Digest) when given.
struct ViewerLogin {
  std::string tls_ca;
  std::string user, password;
};

class PacketViewer {
 public:
  // DESCRIBE, SETUP of stream=0 over TCP, PLAY; reads in a thread of its own.
  PacketViewer(uint16_t port, const std::string& url, const ViewerLogin& login = {});
  ~PacketViewer();
  PacketViewer(const PacketViewer&) = delete;
  PacketViewer& operator=(const PacketViewer&) = delete;

  bool ok() const { return ok_; }
  // Its session id (empty if SETUP failed).
  const std::string& session() const { return session_; }
  unsigned packets() const { return packets_; }
  unsigned gaps() const { return gaps_; }
  bool closed() const { return closed_; }
  // `n` more packets within `timeout`, none lost so far.
  bool flowing(unsigned n = 50, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // For failure messages.
  std::string state() const;

 private:
  void read_loop();
  // One request, answered with Digest once a challenge came.
  RtspReply ask(const std::string& method, const std::string& url, int cseq,
                const std::string& headers = "");

  RawRtsp conn_;
  ViewerLogin login_;
  std::string nonce_;
  std::string session_;
  bool ok_ = false;
  std::thread reader_;
  std::atomic<bool> stop_{false}, closed_{false};
  std::atomic<unsigned> packets_{0}, gaps_{0}, repeats_{0};
};

struct Holdings {
  int fds = -1;
  // But the key-frame replay thread and the system clock's thread for
  // waits that call back (GstSystemClock, made at its first use), one each
  // for the process's life, the memory trim's (a moment each minute), and
  // GLib's shared pool threads ("pool-…"),
  // counted apart: GLib keeps up to 2 unused ones for 15 s after their
  // last job.
  int threads = -1;
  int pool_threads = -1;
};
Holdings holdings_of(GPid pid);
// Waits up to `timeout` until the process holds no more descriptors and
// threads than `baseline` (and at most 2 more idle pool threads); the last
// reading in `now`.
bool wait_holdings_back(GPid pid, const Holdings& baseline, std::chrono::milliseconds timeout,
                        Holdings& now);
// The same as an assertion (EXPECT_TRUE(holdings_back(…))); prints the
// figures and how long they took; a failure names the threads then
// (`names_then`, thread_names() with the baseline) and now.
testing::AssertionResult holdings_back(GPid pid, const Holdings& baseline,
                                       const std::string& names_then,
                                       std::chrono::milliseconds timeout);
// The names of a process's threads, sorted, for failure messages.
std::string thread_names(GPid pid);
// What a process's descriptors point at ("socket:[123]", a path…), by
// number, for failure messages.
std::string fd_targets(GPid pid);

// VmRSS of a process in KiB (-1 if it is gone).
long rss_kib(GPid pid);

}  // namespace gms::test
