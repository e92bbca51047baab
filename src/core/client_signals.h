// The handlers every RTSP client of a server runs, added once for the server
// instead of connected on each client.
//
// Why: a handler connected on an instance costs GLib a handler record, a
// closure (with its notifiers) and a place in the instance's handler list.
// The server's modules connected about 45 on every client: some 7 KB of each
// viewer's memory (heaptrack, 400 relay viewers), a third of all that a
// relay viewer cost, ours and the library's together. The server's client
// class runs these lists from the signals' class slots (every
// GstRTSPClient signal is RUN_LAST with a slot), in the order they were
// added; a "pre-*-request" list stops at the first refusal, as the library's
// accumulator stops the handlers. Handlers an application connects on a
// client itself run before them.
//
// Thread-safety: connect() only while the server is being built, before it
// takes clients; the lists are read-only afterwards, from any client thread.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <array>
#include <vector>

namespace gms {

class ClientSignals {
 public:
  enum Id {
    kPreDescribe, kPreSetup, kPrePlay, kPrePause, kPreTeardown, kPreGetParameter,
    kPreSetParameter, kPreAnnounce, kPreRecord,  // GstRTSPStatusCode (client, ctx, data)
    kPlay, kPause, kRecord,                      // void (client, ctx, data)
    kSendMessage,                                // void (client, ctx, message, data)
    kNewSession,                                 // void (client, session, data)
    kClosed,                                     // void (client, data)
    kCount
  };
  ClientSignals() = default;
  ClientSignals(const ClientSignals&) = delete;
  ClientSignals& operator=(const ClientSignals&) = delete;
  ~ClientSignals();

  // `signal`: a GstRTSPClient signal name among the above; `cb` has its
  // handler's signature, as for g_signal_connect. `destroy` frees `data`
  // with the table. Aborts on another name: a typo must not pass silently.
  void connect(const char* signal, GCallback cb, gpointer data,
               GDestroyNotify destroy = nullptr);

  GstRTSPStatusCode run_pre(Id id, GstRTSPClient* client, GstRTSPContext* ctx) const;
  void run_request(Id id, GstRTSPClient* client, GstRTSPContext* ctx) const;
  void run_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg) const;
  void run_new_session(GstRTSPClient* client, GstRTSPSession* session) const;
  void run_closed(GstRTSPClient* client) const;

 private:
  struct Handler {
    GCallback cb;
    gpointer data;
  };
  std::array<std::vector<Handler>, kCount> handlers_;
  std::vector<std::pair<gpointer, GDestroyNotify>> owned_;
};

// Points a client class's signal slots at the lists of each client's table.
void route_client_signals(GstRTSPClientClass* klass);

// The table a client runs (set when the server made it; nullptr for none).
// Defined with the client type (client_guard.cpp).
const ClientSignals* client_signal_table(GstRTSPClient* client);

}  // namespace gms
