// FrontDoor: the RTSP listening socket, owned by us rather than by
// gst-rtsp-server. It reads each new connection's first request within a
// deadline and a size cap (slowloris, endless headers), refuses connections
// over the global and per-address caps with 503, hands REGISTER/DEREGISTER
// to the proxy, and transfers everything else to the GstRTSPServer with
// the bytes already read (gst_rtsp_server_transfer_connection).
// On the RTSPS port (set_tls) nothing can be read before the TLS handshake:
// the caps are checked at accept, the connection is handed over at once, and
// the client's TLS side and first-request deadline are set up from
// client-connected (core/tls_client.h).
// Runs on the control context.
#pragma once

#include <gio/gio.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/accept_pause.h"
#include "core/client_guard.h"
#include "gms/ref.h"
#include "gms/signal.h"

namespace gms {

struct FrontDoorLimits {
  unsigned max_connections = 4000;     // open RTSP connections in all
  unsigned max_per_address = 0;        // from one client address; 0: no cap
  std::chrono::milliseconds first_request_timeout{10000};
  size_t max_first_request = 65536;    // bytes before the end of the headers
};

class FrontDoor {
 public:
  // Takes a connection whose first request is REGISTER or DEREGISTER; it
  // owns the socket from then on.
  using RegisterHandler =
      std::function<void(Ref<GSocket> socket, const std::string& peer, const std::string& request)>;

  FrontDoor(GstRTSPServer* server, GMainContext* context, FrontDoorLimits limits,
            std::shared_ptr<ClientPolicy> policy);
  ~FrontDoor();

  // Binds and listens; throws ConfigError (port in use, bad address) naming
  // the configuration key `key`.
  void listen(const std::string& address, uint16_t port, unsigned backlog,
              const char* key = "port");
  // Before listen(): every connection accepted here speaks TLS with `cert`.
  void set_tls(Ref<GTlsCertificate> cert) { tls_ = std::move(cert); }
  uint16_t port() const { return port_; }
  void set_register_handler(RegisterHandler h) { register_ = std::move(h); }
  void set_limits(const FrontDoorLimits& l) { limits_ = l; }
  // Closes the listening socket (a draining server): new connections are
  // refused by the kernel, so a balancer tries another server at once.
  // Connections already accepted go on.
  void stop_listening();

 private:
  struct Pending;
  bool on_accept();
  void on_readable(Pending* p);
  void dispatch(Pending* p);
  void drop(Pending* p);
  bool over_limits(const std::string& peer) const;
  void hand_over_tls(Ref<GSocket> socket, const std::string& peer, int peer_port);
  void watch_listener();

  Ref<GstRTSPServer> server_;
  Ref<GMainContext> context_;
  FrontDoorLimits limits_;
  std::shared_ptr<ClientPolicy> policy_;
  RegisterHandler register_;
  Ref<GTlsCertificate> tls_;
  Ref<GSocket> listener_;
  SourceHolder accept_source_;
  std::unique_ptr<AcceptPause> pause_;  // accept() out of descriptors
  uint16_t port_ = 0;
  std::map<Pending*, std::unique_ptr<Pending>> pending_;
};

}  // namespace gms
