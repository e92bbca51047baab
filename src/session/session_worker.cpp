#include "session/session_worker.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/log.h"

namespace gms::session {

using Clock = std::chrono::steady_clock;

struct Worker::State {
  std::mutex lock;  // a leaf: protects the rest
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  bool stop = false;
  bool started = false;
  Clock::time_point busy_since{};  // of the running job; epoch when idle
  std::thread::id thread;
};

namespace {

void run(const std::shared_ptr<Worker::State>& s) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> hold(s->lock);
      s->busy_since = {};
      s->wake.wait(hold, [&] { return s->stop || !s->jobs.empty(); });
      if (s->stop)
        return;
      job = std::move(s->jobs.front());
      s->jobs.pop_front();
      s->busy_since = Clock::now();
    }
    try {
      job();
    } catch (const std::exception& e) {
      GMS_LOG_ERROR("session worker: %s", e.what());
    }
  }
}

}  // namespace

Worker::Worker(const std::string& name) : state_(std::make_shared<State>()) {
  try {
    std::thread t([s = state_] { run(s); });
    pthread_setname_np(t.native_handle(), name.substr(0, 15).c_str());
    state_->thread = t.get_id();
    state_->started = true;
    t.detach();
  } catch (const std::system_error& e) {
    GMS_LOG_ERROR("cannot start the %s thread: %s", name.c_str(), e.what());
  }
}

Worker::~Worker() {
  std::lock_guard<std::mutex> hold(state_->lock);
  state_->stop = true;
  state_->jobs.clear();
  state_->wake.notify_all();
}

bool Worker::post(std::function<void()> job) {
  std::lock_guard<std::mutex> hold(state_->lock);
  if (!state_->started || state_->stop)
    return false;
  state_->jobs.push_back(std::move(job));
  state_->wake.notify_one();
  return true;
}

std::chrono::milliseconds Worker::busy_for() const {
  std::lock_guard<std::mutex> hold(state_->lock);
  if (state_->busy_since == Clock::time_point{})
    return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - state_->busy_since);
}

bool Worker::on_thread() const { return std::this_thread::get_id() == state_->thread; }

}  // namespace gms::session
