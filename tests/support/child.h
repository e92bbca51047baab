// A client program running in the background (an ffmpeg or gst-launch-1.0
// publisher) for as long as the test needs it; killed when destroyed.
#pragma once

#include <gio/gio.h>

#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::test {

class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return static_cast<bool>(proc_); }
  bool running();
  void signal(int sig);
  // Waits for the exit (killed after `timeout_ms`); returns the exit status or -1.
  int wait(unsigned timeout_ms);
  std::string output() const;  // stdout and stderr so far

 private:
  Ref<GSubprocess> proc_;
  std::string log_file_;
};

// ffmpeg publishing a test picture (H.264, optional Opus) in real time.
std::vector<std::string> ffmpeg_publisher(const std::string& url, const std::string& transport,
                                          int seconds, bool audio = false,
                                          const std::string& size = "320x240", bool realtime = true);

// The benchmarks' stream: 20 s of 1280x720 30 fps H.264 at ~3 Mbit/s with a
// key frame every 2 s, encoded once into a temporary MP4 (so that the
// publisher copies it and no encoder shares the CPU with the server).
// Returns its path, or "" with the reason in `why`.
std::string make_bench_clip(std::string& why);

}  // namespace gms::test
