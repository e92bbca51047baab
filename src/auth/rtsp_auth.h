// GmsRtspAuth: the GstRTSPAuth of our server. Every request but OPTIONS
// needs a role on its path: read for DESCRIBE, SETUP and PLAY, publish for
// ANNOUNCE, RECORD and a SETUP in record mode, either for the rest of a
// session (PAUSE, TEARDOWN, GET/SET_PARAMETER). A path may grant roles to
// everyone (anonymous=); otherwise the request needs a user (Digest, or
// Basic over TLS or where allowed) who has the role there: 401 with a
// challenge without one, 403 for a user without the role.
//
// The library's own Digest keeps clear-text passwords, predictable nonces
// and no expiry, so the check vfunc does it all itself (authenticator.h).
// An address that keeps failing gets its 401s late, from a timeout on the
// control context (never a sleep on a client thread), and its connection
// closed after that answer.
#pragma once

#include <gst/rtsp-server/rtsp-auth.h>
#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-server-object.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "gms/ref.h"

namespace gms::auth {

// What the auth object reads, replaced as a whole on reload. Thread-safe.
class AccessPolicy {
 public:
  struct Anonymous {
    std::string pattern;  // a configured path's name
    unsigned roles = 0;   // Role bits
  };

  // null: no users, every request is let through as before.
  void set(std::shared_ptr<Authenticator> core, std::vector<Anonymous> anonymous);
  std::shared_ptr<Authenticator> core() const;
  // The roles the most specific configured path under `path` gives to all.
  unsigned anonymous_roles(const std::string& path) const;

  void set_control(GMainContext* control);
  Ref<GMainContext> control() const;

 private:
  mutable std::mutex lock_;  // protects everything below
  std::shared_ptr<Authenticator> core_;
  std::vector<Anonymous> anonymous_;
  Ref<GMainContext> control_;
};

// A GmsRtspAuth (transfer full).
GstRTSPAuth* new_rtsp_auth(std::shared_ptr<AccessPolicy> policy);

// The user proved on this connection ("" for none), for logs and the
// sessions API.
std::string user_of_client(GstRTSPClient* client);
// The user who set up the session with this id, while it exists.
std::string user_of_session(const std::string& session_id);

// Is this client's connection TLS? One accepted on our RTSPS port is
// (core/tls_client.h); otherwise a connection is TLS when the auth object
// has a certificate (the library then made every connection TLS).
bool client_is_tls(GstRTSPClient* client, GstRTSPAuth* auth, GstRTSPConnection* conn);

// Closes the connections (and their sessions) of users for whom `keep` is
// false, e.g. removed from the users file. Returns how many.
unsigned close_clients_of_users(GstRTSPServer* server, GstRTSPSessionPool* pool,
                                const std::function<bool(const std::string& user)>& keep);

// Authentication failures since start (all listeners), for the metrics.
uint64_t failure_count();
void count_failure();

}  // namespace gms::auth
