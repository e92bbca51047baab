#include "proxy/pipeline_reaper.h"

#include <gst-mediaserver/server.h>

#include <condition_variable>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

namespace gms::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// One thread per pipeline being stopped (they are few: a back end fails at
// most once a second, with back-off) and one watcher that aborts the
// sessions whose grace has run out.
class Reaper {
 public:
  // Never destroyed: its detached threads may outlive static destructors.
  static Reaper& get() {
    static Reaper* r = new Reaper;
    return *r;
  }

  void add(Ref<GstElement> pipeline, std::shared_ptr<BackendLink> link,
           std::chrono::milliseconds grace) {
    auto job = std::make_shared<Job>();
    job->link = link;
    job->abort_at = Clock::now() + grace;
    {
      std::lock_guard<std::mutex> g(lock_);
      jobs_.push_back(job);
      start_watcher_locked();
    }
    cv_.notify_all();
    // Shared so that it is still here if no thread can be had.
    auto held = std::make_shared<Ref<GstElement>>(std::move(pipeline));
    try {
      std::thread([this, job, held] { stop(job, std::move(*held)); }).detach();
    } catch (const std::system_error&) {
      // Cut the back end off, then stop it here.
      link->abort();
      stop(job, std::move(*held));
    }
  }

  size_t pending() {
    std::lock_guard<std::mutex> g(lock_);
    return jobs_.size();
  }

  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(lock_);
    return cv_.wait_for(lk, timeout, [&] { return jobs_.empty(); });
  }

 private:
  struct Job {
    std::shared_ptr<BackendLink> link;
    Clock::time_point abort_at;
    bool aborted = false;
  };

  void stop(const std::shared_ptr<Job>& job, Ref<GstElement> pipeline) {
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    pipeline.reset();
    {
      std::lock_guard<std::mutex> g(lock_);
      jobs_.remove(job);
    }
    cv_.notify_all();
  }

  void start_watcher_locked() {
    if (watcher_)
      return;
    watcher_ = true;
    std::thread([this] { watch(); }).detach();
  }

  void watch() {
    std::unique_lock<std::mutex> lk(lock_);
    for (;;) {
      std::vector<std::shared_ptr<BackendLink>> due;
      auto next = Clock::time_point::max();
      auto now = Clock::now();
      for (auto& j : jobs_) {
        if (j->aborted)
          continue;
        if (j->abort_at <= now) {
          j->aborted = true;
          due.push_back(j->link);
        } else if (j->abort_at < next) {
          next = j->abort_at;
        }
      }
      if (!due.empty()) {
        lk.unlock();
        for (auto& l : due)
          l->abort();
        lk.lock();
        continue;
      }
      if (next == Clock::time_point::max())
        cv_.wait(lk);
      else
        cv_.wait_until(lk, next);
    }
  }

  std::mutex lock_;  // protects jobs_ and watcher_
  std::condition_variable cv_;
  std::list<std::shared_ptr<Job>> jobs_;
  bool watcher_ = false;
};

}  // namespace

void reap_pipeline(Ref<GstElement> pipeline, std::shared_ptr<BackendLink> link,
                   std::chrono::milliseconds grace) {
  Reaper::get().add(std::move(pipeline), std::move(link), grace);
}

size_t pipelines_being_reaped() { return Reaper::get().pending(); }

bool wait_for_reaped_pipelines(std::chrono::milliseconds timeout) {
  return Reaper::get().wait(timeout);
}

}  // namespace gms::proxy

namespace gms {

bool wait_for_backend_stops(unsigned timeout_ms) {
  return proxy::wait_for_reaped_pipelines(std::chrono::milliseconds(timeout_ms));
}

}  // namespace gms
