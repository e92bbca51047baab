#include "rtsp_threads.h"

#include <gst/rtsp-server/rtsp-thread-pool.h>

#include <condition_variable>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace gms::tool {

namespace {

struct Waiter {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
};

}  // namespace

bool wait_for_rtsp_threads(unsigned timeout_ms) {
  // Shared with the thread, which may outlive this call when the pool does
  // not empty in time (the process then ends without waiting for it).
  auto w = std::make_shared<Waiter>();
  std::thread([w] {
    gst_rtsp_thread_pool_cleanup();
    std::lock_guard<std::mutex> g(w->mutex);
    w->done = true;
    w->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(w->mutex);
  return w->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return w->done; });
}

}  // namespace gms::tool
