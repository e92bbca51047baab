// A viewer over TCP that looks into the payloads: which of the given marks
// each RTP packet carries, how many of each came, and their order as runs
// ("A A B B" is the runs A, B), so that a test can tell whose packets a
// viewer got and whether two sources' packets were ever interleaved.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rtsp_raw.h"

namespace gms::test {

class MarkViewer {
 public:
  // DESCRIBE, SETUP of stream=0 over TCP, PLAY; reads in a thread of its own.
  MarkViewer(uint16_t port, const std::string& url, std::vector<std::string> marks);
  ~MarkViewer();
  MarkViewer(const MarkViewer&) = delete;
  MarkViewer& operator=(const MarkViewer&) = delete;

  bool ok() const { return ok_; }
  unsigned packets() const { return packets_; }
  // The server closed the connection.
  bool closed() const { return closed_; }
  // Packets that carried marks[i].
  unsigned marked(size_t i = 0) const;
  // The index of the mark of each run of marked packets, in arrival order.
  std::vector<size_t> runs() const;
  // The runs as text ("A B"), for failure messages.
  std::string runs_text() const;

 private:
  void read_loop();

  RawRtsp conn_;
  const std::vector<std::string> marks_;
  bool ok_ = false;
  std::thread reader_;
  std::atomic<bool> stop_{false}, closed_{false};
  std::atomic<unsigned> packets_{0};
  mutable std::mutex lock_;  // protects counts_ and runs_
  std::vector<unsigned> counts_;
  std::vector<size_t> runs_;
};

}  // namespace gms::test
