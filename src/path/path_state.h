// The state of a live path's source, as the API shows it: each Source says
// which one it is in (launch line, back-end session, publisher).
#pragma once

namespace gms {

enum class PathState {
  kIdle,      // nothing runs: no viewer asked, or the publisher is not there
  kStarting,  // being built or connecting; not delivering yet
  kReady,     // delivers
  kRetrying,  // failed; the next try is scheduled
  kStopping,  // the path goes (reload, unregister, shutdown)
};

// "idle", "starting", "ready", "retrying", "stopping".
const char* state_name(PathState s);

}  // namespace gms
