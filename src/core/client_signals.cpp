#include "core/client_signals.h"

#include <cstdlib>
#include <cstring>

namespace gms {

namespace {

constexpr const char* kNames[ClientSignals::kCount] = {
    "pre-describe-request", "pre-setup-request", "pre-play-request", "pre-pause-request",
    "pre-teardown-request", "pre-get-parameter-request", "pre-set-parameter-request",
    "pre-announce-request", "pre-record-request", "play-request", "pause-request",
    "record-request", "send-message", "new-session", "closed"};

using PreFn = GstRTSPStatusCode (*)(GstRTSPClient*, GstRTSPContext*, gpointer);
using RequestFn = void (*)(GstRTSPClient*, GstRTSPContext*, gpointer);
using MessageFn = void (*)(GstRTSPClient*, GstRTSPContext*, GstRTSPMessage*, gpointer);
using SessionFn = void (*)(GstRTSPClient*, GstRTSPSession*, gpointer);
using ClosedFn = void (*)(GstRTSPClient*, gpointer);

template <ClientSignals::Id id>
GstRTSPStatusCode pre_slot(GstRTSPClient* client, GstRTSPContext* ctx) noexcept {
  const ClientSignals* t = client_signal_table(client);
  return t ? t->run_pre(id, client, ctx) : GST_RTSP_STS_OK;
}

template <ClientSignals::Id id>
void request_slot(GstRTSPClient* client, GstRTSPContext* ctx) noexcept {
  if (const ClientSignals* t = client_signal_table(client))
    t->run_request(id, client, ctx);
}

void send_message_slot(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg) noexcept {
  if (const ClientSignals* t = client_signal_table(client))
    t->run_send_message(client, ctx, msg);
}

void new_session_slot(GstRTSPClient* client, GstRTSPSession* session) noexcept {
  if (const ClientSignals* t = client_signal_table(client))
    t->run_new_session(client, session);
}

void closed_slot(GstRTSPClient* client) noexcept {
  if (const ClientSignals* t = client_signal_table(client))
    t->run_closed(client);
}

}  // namespace

ClientSignals::~ClientSignals() {
  for (auto& [data, destroy] : owned_)
    destroy(data);
}

void ClientSignals::connect(const char* signal, GCallback cb, gpointer data,
                            GDestroyNotify destroy) {
  for (int i = 0; i < kCount; ++i)
    if (std::strcmp(kNames[i], signal) == 0) {
      handlers_[size_t(i)].push_back(Handler{cb, data});
      if (destroy)
        owned_.emplace_back(data, destroy);
      return;
    }
  g_error("ClientSignals: no slot for the signal \"%s\"", signal);
}

GstRTSPStatusCode ClientSignals::run_pre(Id id, GstRTSPClient* client, GstRTSPContext* ctx) const {
  for (const Handler& h : handlers_[id])
    if (GstRTSPStatusCode code = reinterpret_cast<PreFn>(h.cb)(client, ctx, h.data);
        code != GST_RTSP_STS_OK)
      return code;
  return GST_RTSP_STS_OK;
}

void ClientSignals::run_request(Id id, GstRTSPClient* client, GstRTSPContext* ctx) const {
  for (const Handler& h : handlers_[id])
    reinterpret_cast<RequestFn>(h.cb)(client, ctx, h.data);
}

void ClientSignals::run_send_message(GstRTSPClient* client, GstRTSPContext* ctx,
                                     GstRTSPMessage* msg) const {
  for (const Handler& h : handlers_[kSendMessage])
    reinterpret_cast<MessageFn>(h.cb)(client, ctx, msg, h.data);
}

void ClientSignals::run_new_session(GstRTSPClient* client, GstRTSPSession* session) const {
  for (const Handler& h : handlers_[kNewSession])
    reinterpret_cast<SessionFn>(h.cb)(client, session, h.data);
}

void ClientSignals::run_closed(GstRTSPClient* client) const {
  for (const Handler& h : handlers_[kClosed])
    reinterpret_cast<ClosedFn>(h.cb)(client, h.data);
}

void route_client_signals(GstRTSPClientClass* k) {
  k->pre_describe_request = pre_slot<ClientSignals::kPreDescribe>;
  k->pre_setup_request = pre_slot<ClientSignals::kPreSetup>;
  k->pre_play_request = pre_slot<ClientSignals::kPrePlay>;
  k->pre_pause_request = pre_slot<ClientSignals::kPrePause>;
  k->pre_teardown_request = pre_slot<ClientSignals::kPreTeardown>;
  k->pre_get_parameter_request = pre_slot<ClientSignals::kPreGetParameter>;
  k->pre_set_parameter_request = pre_slot<ClientSignals::kPreSetParameter>;
  k->pre_announce_request = pre_slot<ClientSignals::kPreAnnounce>;
  k->pre_record_request = pre_slot<ClientSignals::kPreRecord>;
  k->play_request = request_slot<ClientSignals::kPlay>;
  k->pause_request = request_slot<ClientSignals::kPause>;
  k->record_request = request_slot<ClientSignals::kRecord>;
  k->send_message = send_message_slot;
  k->new_session = new_session_slot;
  k->closed = closed_slot;
}

}  // namespace gms
