// The server's users: builds the authenticator from the configuration
// (users file, -C's user, realm, anonymous paths), installs our auth object
// on the GstRTSPServer, and on reload swaps the users and ends the
// connections of users removed or changed.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-server-object.h>

#include <memory>

#include "auth/rtsp_auth.h"

namespace gms::auth {

class ServerAuth {
 public:
  explicit ServerAuth(GstRTSPServer* server);

  // Reads the users file; throws ConfigError (and changes nothing) when it
  // cannot. Returns what changed, for the reload notes.
  std::vector<std::string> apply(const Config& cfg);
  // Ends the sessions of users that apply() removed or changed.
  unsigned end_stale_sessions(GstRTSPServer* server, GstRTSPSessionPool* pool);
  void attach(GMainContext* control) { policy_->set_control(control); }

  const std::shared_ptr<AccessPolicy>& policy() const { return policy_; }
  bool enabled() const { return policy_->core() != nullptr; }

 private:
  std::shared_ptr<AccessPolicy> policy_ = std::make_shared<AccessPolicy>();
  std::shared_ptr<const UserDb> previous_;  // before the last apply()
};

// "read,publish" → Role bits (none: 0).
unsigned anonymous_roles(const std::string& text);

}  // namespace gms::auth
