#include "mark_viewer.h"

namespace gms::test {

MarkViewer::MarkViewer(uint16_t port, const std::string& url, std::vector<std::string> marks)
    : conn_(port), marks_(std::move(marks)), counts_(marks_.size(), 0) {
  ok_ = !play_over_tcp(conn_, url).empty();
  if (ok_)
    reader_ = std::thread([this] { read_loop(); });
}

MarkViewer::~MarkViewer() {
  stop_ = true;
  if (reader_.joinable())
    reader_.join();
}

unsigned MarkViewer::marked(size_t i) const {
  std::lock_guard<std::mutex> g(lock_);
  return i < counts_.size() ? counts_[i] : 0;
}

std::vector<size_t> MarkViewer::runs() const {
  std::lock_guard<std::mutex> g(lock_);
  return runs_;
}

std::string MarkViewer::runs_text() const {
  std::string out;
  for (size_t i : runs())
    out += (out.empty() ? "" : " ") + marks_[i];
  return out.empty() ? "(none)" : out;
}

void MarkViewer::read_loop() {
  using namespace std::chrono_literals;
  while (!stop_) {
    const auto asked = std::chrono::steady_clock::now();
    RawRtsp::Frame f = conn_.read_interleaved(200ms);
    // Nothing, and at once: the server closed the connection.
    if (f.channel < 0 && std::chrono::steady_clock::now() - asked < 100ms) {
      closed_ = true;
      return;
    }
    if (f.channel != 0)
      continue;
    ++packets_;
    for (size_t i = 0; i < marks_.size(); ++i) {
      if (f.data.find(marks_[i]) == std::string::npos)
        continue;
      std::lock_guard<std::mutex> g(lock_);
      counts_[i]++;
      if (runs_.empty() || runs_.back() != i)
        runs_.push_back(i);
      break;
    }
  }
}

}  // namespace gms::test
