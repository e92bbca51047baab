// A reference viewer for the fault cases: RTP over TCP, every sequence
// number checked, so that "it lost nothing" is a count and not a feeling;
// and what a server process holds (fds, threads, resident memory).
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "rtsp_raw.h"

namespace gms::test {

class PacketViewer {
 public:
  // DESCRIBE, SETUP of stream=0 over TCP, PLAY; reads in a thread of its own.
  PacketViewer(uint16_t port, const std::string& url);
  ~PacketViewer();
  PacketViewer(const PacketViewer&) = delete;
  PacketViewer& operator=(const PacketViewer&) = delete;

  bool ok() const { return ok_; }
  unsigned packets() const { return packets_; }
  unsigned gaps() const { return gaps_; }
  bool closed() const { return closed_; }
  // `n` more packets within `timeout`, none lost so far.
  bool flowing(unsigned n = 50, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // For failure messages.
  std::string state() const;

 private:
  void read_loop();

  RawRtsp conn_;
  std::string session_;
  bool ok_ = false;
  std::thread reader_;
  std::atomic<bool> stop_{false}, closed_{false};
  std::atomic<unsigned> packets_{0}, gaps_{0}, repeats_{0};
};

struct Holdings {
  int fds = -1;
  // But the key-frame replay thread (one for the process's life) and
  // GLib's shared pool threads ("pool-…"), counted apart: GLib keeps up to
  // 2 unused ones for 15 s after their last job.
  int threads = -1;
  int pool_threads = -1;
};
Holdings holdings_of(GPid pid);
// The names of a process's threads, sorted, for failure messages.
std::string thread_names(GPid pid);
// What a process's descriptors point at ("socket:[123]", a path…), by
// number, for failure messages.
std::string fd_targets(GPid pid);

// VmRSS of a process in KiB (-1 if it is gone).
long rss_kib(GPid pid);

}  // namespace gms::test
