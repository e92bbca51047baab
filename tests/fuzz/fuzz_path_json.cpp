// A path described in JSON, as an API body would carry it: json-glib parses
// the body, each member becomes the path's key of that name, and our
// configuration reader and validator judge the result. Any body must give a
// path or a ConfigError; a value can never add a key or a path of its own
// (a member's value is one line of the path's section, whatever it holds).
#include <gst-mediaserver/config.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

// One member as the text of a key's value; false for values a key cannot
// hold (objects, arrays, null, text over more than one line).
bool value_text(JsonNode* node, std::string& out) {
  if (JSON_NODE_TYPE(node) != JSON_NODE_VALUE)
    return false;
  switch (json_node_get_value_type(node)) {
    case G_TYPE_BOOLEAN:
      out = json_node_get_boolean(node) ? "true" : "false";
      return true;
    case G_TYPE_INT64:
      out = std::to_string(json_node_get_int(node));
      return true;
    case G_TYPE_DOUBLE: {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      out = g_ascii_dtostr(buf, sizeof buf, json_node_get_double(node));
      return true;
    }
    case G_TYPE_STRING:
      out = json_node_get_string(node);
      return out.find_first_of("\r\n") == std::string::npos && out.find('\0') == std::string::npos;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024)  // an API body's limit
    return 0;
  JsonParser* parser = json_parser_new_immutable();
  if (json_parser_load_from_data(parser, reinterpret_cast<const char*>(data), gssize(size), nullptr)) {
    JsonNode* root = json_parser_get_root(parser);
    JsonObject* obj = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    const char* name = obj && json_object_has_member(obj, "name")
                           ? json_object_get_string_member_with_default(obj, "name", nullptr)
                           : nullptr;
    std::string text = std::string("[path ") + (name ? name : "") + "]\n";
    bool ok = name && !strpbrk(name, "]\r\n");
    if (ok) {
      GList* members = json_object_get_members(obj);
      for (GList* m = members; m && ok; m = m->next) {
        const char* key = static_cast<const char*>(m->data);
        if (g_str_equal(key, "name"))
          continue;
        std::string v;
        ok = value_text(json_object_get_member(obj, key), v) && !strpbrk(key, "=[]\r\n");
        text += std::string(key) + "=" + v + "\n";
      }
      g_list_free(members);
    }
    if (ok) {
      try {
        gms::Config cfg = gms::Config::from_data(text, "api");
        cfg.validate();
        if (cfg.paths.size() != 1)
          abort();  // one object, one path
      } catch (const gms::ConfigError&) {
      }
    }
  }
  g_object_unref(parser);
  return 0;
}
