#include "path/path_state.h"

namespace gms {

const char* state_name(PathState s) {
  switch (s) {
    case PathState::kIdle:
      return "idle";
    case PathState::kStarting:
      return "starting";
    case PathState::kReady:
      return "ready";
    case PathState::kRetrying:
      return "retrying";
    case PathState::kStopping:
      return "stopping";
  }
  return "idle";
}

}  // namespace gms
