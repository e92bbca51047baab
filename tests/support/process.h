// Child processes for integration tests: the server under test and real
// clients (gst-launch-1.0, ffprobe), each with a deadline.
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::test {

using namespace std::chrono_literals;
using Deadline = std::chrono::steady_clock::time_point;
inline Deadline deadline_in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

struct RunResult {
  int exit_status = -1;  // -1: killed at the deadline
  std::string out, err;
};

// Runs argv to completion or kills it at `timeout`.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Polls `cond` on the default main context until true or the deadline.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

// How many times `needle` occurs in `text` (log lines, for instance).
size_t count_occurrences(const std::string& text, const std::string& needle);

// A free TCP port on 127.0.0.1 (bound and released; the OS does not hand it
// out again at once).
uint16_t free_port();

// A TCP socket listening on 127.0.0.1 (a server that never answers, or a
// port taken); its port in `port`. Throws when none can be had.
int listening_socket(uint16_t& port);

// The gst-mediaserver under test: started with args, waited for "ready".
class ServerProcess {
 public:
  // Starts `build/src/gst-mediaserver -a 127.0.0.1 -p PORT --http-port 0 ARGS`.
  // `port` 0 picks a free one. `prefix` runs it through another program
  // first (e.g. {"ip", "netns", "exec", "NS"}). With `http_api` the HTTP API
  // listens on a free port (http_port(), http_url()) instead of being off.
  explicit ServerProcess(std::vector<std::string> args, bool wait_ready = true, uint16_t port = 0,
                         const std::vector<std::string>& prefix = {}, bool http_api = false);
  ~ServerProcess();

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  // 0 when the HTTP API is off.
  uint16_t http_port() const { return http_port_; }
  std::string http_url(const std::string& path) const;
  bool ready() const { return ready_; }
  // Sends a signal; stop() sends SIGTERM and returns the exit status (-1 if
  // it had to be killed after the deadline).
  void signal(int sig);
  int stop(std::chrono::milliseconds timeout = 10s);
  // Waits for exit without a signal (for start-up failures).
  int wait_exit(std::chrono::milliseconds timeout = 10s);
  // Everything the server wrote to stderr so far.
  std::string log() const;
  // The last lines of log(), for failure messages that must stay short.
  std::string log_tail(size_t lines = 30) const;
  // False once the server process has exited (crashed or stopped).
  bool alive() const;
  bool log_contains(const std::string& s) const { return log().find(s) != std::string::npos; }
  // The server's process id (0 if it did not start).
  GPid pid() const;

 private:
  void pump_stdout(std::chrono::milliseconds timeout);

  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  bool ready_ = false;
  bool exited_ = false;
  int status_ = -1;
  std::string log_file_;
  std::string stdout_;
  Ref<GSubprocess> proc_;
};

// CPU time (user + system, s) a process has used so far, from /proc/PID/stat.
double process_cpu_seconds(GPid pid);

// Adds a user to a users file with the program itself (--add-user, the
// password on stdin).
RunResult run_add_user(const std::string& file, const std::string& name, const std::string& pw,
                       const std::string& roles);

// Path of a binary built by this project (from the GMS_BUILD_DIR env var).
std::string build_path(const std::string& rel);
// Writes `text` to a new file in a fresh temporary directory; returns its path.
std::string write_temp_file(const std::string& name, const std::string& text);

}  // namespace gms::test
