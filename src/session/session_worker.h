// The thread that does the sessions' work that takes the library's locks:
// reading a session's figures (its session media's and streams' locks),
// ending a session over the API (its media's teardown), expiring the
// sessions that timed out (the same).
//
// Why not the control thread: each of those waits for a lock that an RTSP
// client thread holds while it changes a media's state, and a media whose
// pipeline cannot stop holds it for ever. The control thread must go on
// answering RTSP, the HTTP API and signals whatever a pipeline does; this
// thread is the one that waits.
//
// Jobs run in order, one at a time. The thread is detached: the owner's
// destruction never waits for a job (one may never return); the jobs hold
// their objects themselves (a weak reference locked for the job).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace gms::session {

class Worker {
 public:
  // Starts the thread, named `name` (15 characters at most show).
  explicit Worker(const std::string& name);
  // Stops the thread once its job (if any) returns; drops the jobs queued.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Any thread: runs `job` on the thread after those queued. False when
  // the thread could not be started.
  bool post(std::function<void()> job);
  // How long the running job has been running; zero when idle.
  std::chrono::milliseconds busy_for() const;
  // True on the worker's own thread.
  bool on_thread() const;

 struct State;  // shared with the thread

 private:
  std::shared_ptr<State> state_;
};

}  // namespace gms::session
