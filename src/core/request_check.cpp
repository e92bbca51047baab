#include "core/request_check.h"

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/client_signals.h"
#include "core/log.h"
#include "core/request_cseq.h"

namespace gms {
namespace {

// The library's element of GstRTSPMessage::hdr_fields (gstrtspmessage.c,
// not exported); used only when the array's element size matches.
struct HeaderEntry {
  GstRTSPHeaderField field;
  gchar* value;
  gchar* custom_key;
};

// Not among the library's codes (RFC 6585's, used by RTSP servers too).
constexpr auto kHeadersTooLarge = GstRTSPStatusCode(431);

const char kCloseAfterReply[] = "gms-close-after-reply";
const char kHadRequest[] = "gms-had-request";
const char kPublic[] =
    "OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, "
    "TEARDOWN";

bool is_request(const GstRTSPMessage* m) {
  return m && m->type == GST_RTSP_MESSAGE_REQUEST;
}

// Some header line (its values summed: the library splits a line at commas
// and at the Session's ';') was at least as long as the cut.
bool header_too_long(const GstRTSPMessage* request) {
  GArray* fields = request->hdr_fields;
  if (!fields || g_array_get_element_size(fields) != sizeof(HeaderEntry))
    return false;
  std::map<std::string, size_t> lengths;
  for (guint i = 0; i < fields->len; ++i) {
    const HeaderEntry& e = g_array_index(fields, HeaderEntry, i);
    const char* name = e.field == GST_RTSP_HDR_INVALID ? (e.custom_key ? e.custom_key : "")
                                                       : gst_rtsp_header_as_text(e.field);
    size_t& len = lengths[name ? name : ""];
    len += (len ? 2 : std::strlen(name ? name : "") + 2) + (e.value ? std::strlen(e.value) : 0);
    if (len >= kLongestLine)
      return true;
  }
  return false;
}

bool request_line_too_long(const GstRTSPMessage* request) {
  const char* uri = request->type_data.request.uri;
  return uri && std::strlen(uri) + 20 >= kLongestLine;
}

// Exactly one CSeq, a plain number.
bool cseq_ok(const GstRTSPMessage* request) {
  auto* m = const_cast<GstRTSPMessage*>(request);
  gchar* value = nullptr;
  if (gst_rtsp_message_get_header(m, GST_RTSP_HDR_CSEQ, &value, 0) != GST_RTSP_OK)
    return false;
  gchar* second = nullptr;
  if (gst_rtsp_message_get_header(m, GST_RTSP_HDR_CSEQ, &second, 1) == GST_RTSP_OK)
    return false;
  return parse_cseq_value(value).has_value();
}

// At most one Content-Length value, a plain number. The library reads the
// first with atol(): `abc` is a request without a body, whatever follows
// it, and of two different values the first decides where the next request
// starts. Either way the rest of the connection's bytes cannot be trusted.
bool body_length_ok(const GstRTSPMessage* request) {
  auto* m = const_cast<GstRTSPMessage*>(request);
  auto trimmed = [&](int index) -> std::optional<std::string> {
    gchar* value = nullptr;
    if (gst_rtsp_message_get_header(m, GST_RTSP_HDR_CONTENT_LENGTH, &value, index) != GST_RTSP_OK)
      return std::nullopt;
    std::string v = value;
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t") + 1);
    return v;
  };
  std::optional<std::string> first = trimmed(0), second = trimmed(1);
  if (!first)
    return true;
  if (second && *second != *first)
    return false;
  return !first->empty() && first->find_first_not_of("0123456789") == std::string::npos;
}

std::string peer_of(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  const char* ip = conn ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip ? ip : "?";
}

// A request after one whose line was cut: its start is where the library
// thinks, not where the client put it; refused like the first.
GstRTSPStatusCode problem_of(GstRTSPClient* client, const GstRTSPMessage* request) {
  if (gpointer cut = g_object_get_data(G_OBJECT(client), kCloseAfterReply))
    return GstRTSPStatusCode(GPOINTER_TO_INT(cut));
  return request_problem(request);
}

GstRTSPStatusCode on_pre_request(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  g_object_set_data(G_OBJECT(client), kHadRequest, GINT_TO_POINTER(1));
  GstRTSPStatusCode code = problem_of(client, ctx->request);
  if (code != GST_RTSP_STS_OK)
    GMS_LOG_INFO("client %s: request refused (%d): %s", peer_of(client).c_str(), int(code),
                 code != GST_RTSP_STS_BAD_REQUEST ? "line over the parser's cut"
                 : body_length_ok(ctx->request) ? "bad CSeq"
                                                : "bad Content-Length");
  return code;
}

void set_status(GstRTSPMessage* reply, GstRTSPStatusCode code) {
  reply->type_data.response.code = code;
  g_free(reply->type_data.response.reason);
  const char* text = code == kHeadersTooLarge ? "Request Header Fields Too Large"
                                              : gst_rtsp_status_as_text(code);
  reply->type_data.response.reason = g_strdup(text ? text : "Error");
}

// Ends `client` in its own thread: its socket stops reading, so the
// library reads the end of the stream once this reply is out and closes
// the connection itself (a close from another thread races its reads).
void close_after_reply(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* socket = conn ? gst_rtsp_connection_get_read_socket(conn) : nullptr;
  if (socket)
    g_socket_shutdown(socket, TRUE, FALSE, nullptr);
}

// The reply to a request with a problem names it, whatever the library
// found first (a Session cut to 4 KB is "not found"); an unknown method
// is 501, not the library's 400; a CSeq that is not a plain number is
// not echoed.
void on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* reply,
                     gpointer) noexcept {
  if (!ctx || !is_request(ctx->request) || !reply || reply->type != GST_RTSP_MESSAGE_RESPONSE)
    return;
  g_object_set_data(G_OBJECT(client), kHadRequest, GINT_TO_POINTER(1));
  GstRTSPStatusCode code = problem_of(client, ctx->request);
  if (code != GST_RTSP_STS_OK && reply->type_data.response.code != code) {
    set_status(reply, code);
    gst_rtsp_message_remove_header(reply, GST_RTSP_HDR_PUBLIC, -1);
  }
  else if (code == GST_RTSP_STS_OK && ctx->request->type_data.request.method == GST_RTSP_INVALID &&
           reply->type_data.response.code == GST_RTSP_STS_BAD_REQUEST) {
    set_status(reply, GST_RTSP_STS_NOT_IMPLEMENTED);
    gst_rtsp_message_add_header(reply, GST_RTSP_HDR_PUBLIC, kPublic);
  }
  if (!cseq_ok(ctx->request))
    gst_rtsp_message_remove_header(reply, GST_RTSP_HDR_CSEQ, -1);
  // The library dropped the rest of the line, or cannot know where the
  // body ends: the client is not one to go on with.
  if (code == GST_RTSP_STS_REQUEST_URI_TOO_LARGE || code == kHeadersTooLarge ||
      !body_length_ok(ctx->request)) {
    g_object_set_data(G_OBJECT(client), kCloseAfterReply, GINT_TO_POINTER(int(code)));
    gst_rtsp_message_add_header(reply, GST_RTSP_HDR_CONNECTION, "close");
    close_after_reply(client);
  }
}

}  // namespace

GstRTSPStatusCode request_problem(const GstRTSPMessage* request) {
  if (!is_request(request))
    return GST_RTSP_STS_OK;
  if (request_line_too_long(request))
    return GST_RTSP_STS_REQUEST_URI_TOO_LARGE;
  if (header_too_long(request))
    return kHeadersTooLarge;
  if (!cseq_ok(request) || !body_length_ok(request))
    return GST_RTSP_STS_BAD_REQUEST;
  return GST_RTSP_STS_OK;
}

bool client_had_request(GstRTSPClient* client) {
  return g_object_get_data(G_OBJECT(client), kHadRequest) != nullptr;
}

void add_request_checks(ClientSignals& signals) {
  // Not pre-options-request: the library frees the reply on its stack when
  // that signal refuses. An OPTIONS does nothing; its reply is corrected in
  // send-message like the others.
  for (const char* sig :
       {"pre-describe-request", "pre-setup-request", "pre-play-request",
        "pre-pause-request", "pre-teardown-request", "pre-get-parameter-request",
        "pre-set-parameter-request", "pre-announce-request", "pre-record-request"})
    signals.connect(sig, G_CALLBACK(on_pre_request), nullptr);
  signals.connect("send-message", G_CALLBACK(on_send_message), nullptr);
}

}  // namespace gms
