// A small HTTP client for the API tests (libsoup 3, blocking calls with a
// timeout) and JSON reading with json-glib.
#pragma once

#include <json-glib/json-glib.h>

#include <string>

#include "gms/ref.h"

namespace gms::test {

struct HttpReply {
  unsigned status = 0;  // 0: no answer (error says why)
  std::string body, content_type, allow, error;
};

// One request; a fresh connection each time, 10 s timeout.
HttpReply http_request(const std::string& method, const std::string& url);
// With a JSON request body.
HttpReply http_request(const std::string& method, const std::string& url, const std::string& json);
inline HttpReply http_get(const std::string& url) { return http_request("GET", url); }

using JsonNodePtr = UniquePtr<JsonNode, json_node_unref>;
// The parsed document; null if `text` is not JSON.
JsonNodePtr parse_json(const std::string& text);

// The member `name` of object `o`: a string ("" if absent or not a string).
std::string json_string(JsonObject* o, const char* name);

// The element of `array` whose member `key` is `value`; null if none.
JsonObject* json_find(JsonArray* array, const char* key, const std::string& value);

}  // namespace gms::test
