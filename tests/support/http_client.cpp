#include "http_client.h"

#include <libsoup/soup.h>

namespace gms::test {

namespace {

// `json` null: a request without a body.
HttpReply send(const std::string& method, const std::string& url, const std::string* json) {
  HttpReply r;
  auto session = Ref<SoupSession>::adopt(soup_session_new());
  soup_session_set_timeout(session.get(), 10);
  auto msg = Ref<SoupMessage>::adopt(soup_message_new(method.c_str(), url.c_str()));
  if (!msg) {
    r.error = "bad URL " + url;
    return r;
  }
  if (json) {
    auto bytes = UniquePtr<GBytes, g_bytes_unref>(g_bytes_new(json->data(), json->size()));
    soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());
  }
  GErrorPtr err;
  auto body = UniquePtr<GBytes, g_bytes_unref>(
      soup_session_send_and_read(session.get(), msg.get(), nullptr, out(err)));
  if (!body) {
    r.error = err ? err->message : "no answer";
    return r;
  }
  r.status = soup_message_get_status(msg.get());
  gsize len = 0;
  const auto* data = static_cast<const char*>(g_bytes_get_data(body.get(), &len));
  r.body.assign(data ? data : "", len);
  SoupMessageHeaders* h = soup_message_get_response_headers(msg.get());
  const char* type = soup_message_headers_get_content_type(h, nullptr);
  r.content_type = type ? type : "";
  const char* allow = soup_message_headers_get_one(h, "Allow");
  r.allow = allow ? allow : "";
  return r;
}

}  // namespace

HttpReply http_request(const std::string& method, const std::string& url) {
  return send(method, url, nullptr);
}

HttpReply http_request(const std::string& method, const std::string& url, const std::string& json) {
  return send(method, url, &json);
}

JsonNodePtr parse_json(const std::string& text) {
  auto parser = Ref<JsonParser>::adopt(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), text.data(), gssize(text.size()), nullptr))
    return nullptr;
  JsonNode* root = json_parser_get_root(parser.get());
  return JsonNodePtr(root ? json_node_copy(root) : nullptr);
}

std::string json_string(JsonObject* o, const char* name) {
  if (!o || !json_object_has_member(o, name))
    return {};
  JsonNode* n = json_object_get_member(o, name);
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return json_node_get_string(n);
  return {};
}

JsonObject* json_find(JsonArray* array, const char* key, const std::string& value) {
  if (!array)
    return nullptr;
  for (guint i = 0; i < json_array_get_length(array); ++i) {
    JsonObject* o = json_array_get_object_element(array, i);
    if (json_string(o, key) == value)
      return o;
  }
  return nullptr;
}

}  // namespace gms::test
