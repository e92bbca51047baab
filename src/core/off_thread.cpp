#include "core/off_thread.h"

#include <pthread.h>

#include <system_error>
#include <thread>

namespace gms {

void run_off_thread(const char* name, std::function<void()> job) {
  try {
    std::thread([name, job] {
      pthread_setname_np(pthread_self(), name);
      job();
    }).detach();
  } catch (const std::system_error&) {
    job();  // no thread: here, as before
  }
}

}  // namespace gms
