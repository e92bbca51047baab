#include "exit_deadline.h"

#include <unistd.h>

#include <string>
#include <system_error>
#include <thread>

#include <gst-mediaserver/server.h>

namespace gms::tool {

void exit_within(std::chrono::seconds limit, int code) {
  try {
    std::thread([limit, code] {
      std::this_thread::sleep_for(limit);
      gms::program_log("WARN", "a pipeline thread did not end within " +
                                   std::to_string(limit.count()) +
                                   " s of the stop; exiting without it");
      _exit(code);
    }).detach();
  } catch (const std::system_error&) {
    // No thread: the exit is not bounded.
  }
}

}  // namespace gms::tool
