// REGISTER and DEREGISTER, as live555 defines them: a back end (often behind
// NAT) connects to the proxy and asks to be proxied.
//
//   REGISTER rtsp://backend/stream RTSP/1.0
//   CSeq: 1
//   Transport: reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=cam
//
// The proxy answers 200 and serves the stream at /cam (without a suffix at
// /registeredProxyStream-N). With reuse_connection the proxy speaks RTSP to
// the back end over the REGISTER connection itself: rtspsrc connects to a
// loopback port whose bytes are spliced into that connection. Without it,
// the proxy connects to the URL. With -U USER PASS the request needs Digest
// credentials.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "gms/ref.h"
#include "gms/signal.h"

namespace gms::proxy {

struct RegisterRequest {
  std::string method;  // REGISTER or DEREGISTER
  std::string url;
  std::string cseq;
  bool reuse_connection = false;
  bool via_tcp = false;       // preferred_delivery_protocol=interleaved
  std::string suffix;         // proxy_url_suffix
  std::string authorization;  // the Authorization header, if any
};

// Parses one request; false with `why` when it is not a usable one.
bool parse_register(const std::string& text, RegisterRequest& out, std::string& why);

// Digest (RFC 2617, no qop, MD5) check of `authorization` for `method` with
// the nonce we handed out.
bool digest_ok(const std::string& authorization, const std::string& method,
               const std::string& realm, const std::string& nonce, const std::string& user,
               const std::string& password);

class Registrar {
 public:
  struct Hooks {
    // Adds or replaces the proxy path `name` for `url`; "" or why not.
    std::function<std::string(const std::string& name, const std::string& url, bool via_tcp)> add;
    // Removes the path registered as `name` (DEREGISTER).
    std::function<void(const std::string& name)> remove;
    // With users: does this Authorization (Digest on `nonce`, in `realm`)
    // belong to a user who may register? Accepted beside -U's credentials.
    std::function<bool(const std::string& authorization, const std::string& method,
                       const std::string& nonce)>
        authorize;
    std::string realm = "gst-mediaserver";
  };

  Registrar(GMainContext* control, std::string user, std::string password, Hooks hooks);
  ~Registrar();

  // A connection whose first request is REGISTER or DEREGISTER (FrontDoor).
  void take(Ref<GSocket> socket, const std::string& peer, const std::string& request);

 private:
  struct Connection;
  struct Splice;
  void handle(Connection* c, const std::string& request);
  void reply(Connection* c, const std::string& status, const std::string& cseq,
             const std::string& extra = {});
  void close(Connection* c);
  std::string splice_to(const std::string& name, Ref<GSocket> backend);

  Ref<GMainContext> control_;
  std::string user_, password_;
  Hooks hooks_;
  unsigned anonymous_ = 0;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::unique_ptr<Splice>> splices_;  // by path name
};

}  // namespace gms::proxy
