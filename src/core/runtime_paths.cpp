#include "core/runtime_paths.h"

#include <json-glib/json-glib.h>

#include "config/key_file_reader.h"
#include "config/value_parsers.h"
#include "core/log.h"
#include "gms/ref.h"

namespace gms {
namespace {

constexpr char kOrigin[] = "HTTP API";
using Keys = std::map<std::string, std::string>;
using Result = RuntimePaths::Result;

Result fail(unsigned status, std::string key, std::string reason, const std::string& name = {}) {
  Result r;
  r.status = status;
  r.key = std::move(key);
  r.reason = std::move(reason);
  r.name = name;
  return r;
}

Result from_issues(const ConfigError& e, const std::string& name) {
  const ConfigIssue& i = e.issues().front();
  return fail(400, i.key, i.reason, name);
}

std::string group_of(const std::string& name) { return "path " + name; }

// Key names as a key file allows them; anything else could not be a key of
// ours and must not reach the group text.
bool plain_key(const std::string& k) {
  if (k.empty())
    return false;
  for (char c : k)
    if (!g_ascii_isalnum(c) && c != '-')
      return false;
  return true;
}

// The group as a key file writes it (its escapes for leading blanks,
// newlines and backslashes).
std::string group_text(const std::string& name, const Keys& keys) {
  auto kf = UniquePtr<GKeyFile, g_key_file_unref>(g_key_file_new());
  for (const auto& [k, v] : keys)
    g_key_file_set_string(kf.get(), group_of(name).c_str(), k.c_str(), v.c_str());
  if (keys.empty())
    return "[" + group_of(name) + "]\n";
  GCharPtr text(g_key_file_to_data(kf.get(), nullptr, nullptr));
  return text.get();
}

// A JSON value as the text a key file would hold.
bool value_text(JsonNode* n, std::string& out) {
  if (!JSON_NODE_HOLDS_VALUE(n))
    return false;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_STRING) {
    out = json_node_get_string(n);
  } else if (t == G_TYPE_BOOLEAN) {
    out = json_node_get_boolean(n) ? "true" : "false";
  } else if (t == G_TYPE_INT64) {
    out = std::to_string(json_node_get_int(n));
  } else {
    return false;  // fractions: no key of ours takes one
  }
  return true;
}

// The request body as an object; `err` set when it is not one.
Ref<JsonParser> parse_body(const std::string& body, JsonObject*& obj, Result& err) {
  auto parser = Ref<JsonParser>::adopt(json_parser_new());
  GErrorPtr e;
  obj = nullptr;
  if (!json_parser_load_from_data(parser.get(), body.data(), gssize(body.size()), out(e))) {
    err = fail(400, "", std::string("the body is not JSON: ") + (e ? e->message : "?"));
    return parser;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    err = fail(400, "", "the body must be a JSON object of configuration keys");
    return parser;
  }
  obj = json_node_get_object(root);
  return parser;
}

// Members of `obj` into `keys` (null removes a key); "name" is skipped.
bool apply_members(JsonObject* obj, Keys& keys, Result& err) {
  GList* members = json_object_get_members(obj);
  bool ok = true;
  for (GList* l = members; l && ok; l = l->next) {
    std::string k = static_cast<const char*>(l->data);
    if (k == "name")
      continue;
    JsonNode* n = json_object_get_member(obj, k.c_str());
    std::string v;
    if (!plain_key(k)) {
      err = fail(400, k, "unknown key");
      ok = false;
    } else if (JSON_NODE_HOLDS_NULL(n)) {
      keys.erase(k);
    } else if (!value_text(n, v)) {
      err = fail(400, k, "must be a string, an integer or a boolean");
      ok = false;
    } else {
      keys[k] = v;
    }
  }
  g_list_free(members);
  return ok;
}

// The configuration file with the group replaced (or removed), written
// atomically (a new file renamed over the old); comments stay.
bool write_group(const std::string& file, const std::string& name, const std::optional<Keys>& keys,
                 std::string& why) {
  auto kf = UniquePtr<GKeyFile, g_key_file_unref>(g_key_file_new());
  GErrorPtr e;
  if (!g_key_file_load_from_file(kf.get(), file.c_str(), G_KEY_FILE_KEEP_COMMENTS, out(e))) {
    why = "cannot read " + file + ": " + e->message;
    return false;
  }
  const std::string group = group_of(name);
  if (!keys) {
    g_key_file_remove_group(kf.get(), group.c_str(), nullptr);
  } else {
    gsize n = 0;
    GStrv old = g_key_file_get_keys(kf.get(), group.c_str(), &n, nullptr);
    for (gsize i = 0; old && i < n; ++i)
      if (!keys->count(old[i]))
        g_key_file_remove_key(kf.get(), group.c_str(), old[i], nullptr);
    g_strfreev(old);
    for (const auto& [k, v] : *keys)
      g_key_file_set_string(kf.get(), group.c_str(), k.c_str(), v.c_str());
  }
  GErrorPtr w;
  if (!g_key_file_save_to_file(kf.get(), file.c_str(), out(w))) {
    why = "cannot write " + file + ": " + w->message;
    return false;
  }
  return true;
}

// `cfg` with the path `name` replaced by `keys` (or removed).
void put_path(Config& cfg, const std::string& name, const std::optional<Keys>& keys) {
  std::erase_if(cfg.paths, [&](const PathConfig& p) { return p.name == name; });
  if (!keys)
    return;
  Config one = Config::from_data(group_text(name, *keys), kOrigin);
  for (auto& p : one.paths)
    cfg.paths.push_back(std::move(p));
}

}  // namespace

std::optional<Keys> RuntimePaths::keys_of(const Config& current, const std::string& name) const {
  if (auto it = overlay_.find(name); it != overlay_.end())
    return it->second;
  const PathConfig* p = current.find_path(name);
  const std::string& file = current.server.config_file;
  if (!p || file.empty() || p->origin != file)
    return std::nullopt;
  GCharPtr text;
  gsize len = 0;
  gchar* raw = nullptr;
  if (!g_file_get_contents(file.c_str(), &raw, &len, nullptr))
    return std::nullopt;
  text.reset(raw);
  std::vector<ConfigIssue> issues;
  KeyFileContents kf = read_key_file(std::string(raw, len), file, issues);
  for (const auto& g : kf.groups) {
    if (g.name != group_of(name))
      continue;
    Keys keys;
    for (const auto& k : g.keys)
      keys[k.key] = k.value;
    return keys;
  }
  return std::nullopt;
}

Result RuntimePaths::commit(const Config& current, const std::string& name,
                            const std::optional<Keys>& keys, const Apply& apply) {
  Config next = current;
  try {
    put_path(next, name, keys);
    next.validate();
    if (keys) {
      Config one;
      one.server = next.server;
      one.paths.push_back(*next.find_path(name));
      for (const auto& w : one.check_launch_lines())
        GMS_LOG_WARN("%s", w.to_string().c_str());
    }
  } catch (const ConfigError& e) {
    return from_issues(e, name);
  }
  const bool write = current.server.api_writes_config && !current.server.config_file.empty();
  if (write) {
    std::string why;
    if (!write_group(current.server.config_file, name, keys, why))
      return fail(500, "", why, name);
    overlay_.erase(name);  // the file holds it now
  } else {
    overlay_[name] = keys;
  }
  try {
    apply(next);
  } catch (const ConfigError& e) {
    return from_issues(e, name);
  }
  Result r;
  r.name = name;
  return r;
}

Result RuntimePaths::add(const Config& current, const std::string& body, const Apply& apply) {
  Result err;
  JsonObject* obj = nullptr;
  auto parser = parse_body(body, obj, err);
  if (!obj)
    return err;
  JsonNode* n = json_object_get_member(obj, "name");
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return fail(400, "name", "the path's name is missing (a string such as \"/cam\")");
  std::string name = json_node_get_string(n), why;
  if (!check_path_name(name, why, true))
    return fail(400, "name", why, name);
  if (current.find_path(name))
    return fail(409, "name", name + " exists (PATCH changes it)", name);
  Keys keys;
  if (!apply_members(obj, keys, err)) {
    err.name = name;
    return err;
  }
  Result r = commit(current, name, keys, apply);
  if (r.status == 200)
    r.status = 201;
  return r;
}

Result RuntimePaths::patch(const Config& current, const std::string& name, const std::string& body,
                           const Apply& apply) {
  if (!current.find_path(name))
    return fail(404, "", "no path " + name, name);
  Result err;
  JsonObject* obj = nullptr;
  auto parser = parse_body(body, obj, err);
  if (!obj)
    return err;
  if (JsonNode* n = json_object_get_member(obj, "name");
      n && (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING ||
            name != json_node_get_string(n)))
    return fail(400, "name", "a path is not renamed (DELETE it and POST the new name)", name);
  std::optional<Keys> keys = keys_of(current, name);
  if (!keys)
    return fail(409, "", name + " is defined on the command line; it changes only there", name);
  if (!apply_members(obj, *keys, err)) {
    err.name = name;
    return err;
  }
  return commit(current, name, keys, apply);
}

Result RuntimePaths::remove(const Config& current, const std::string& name, const Apply& apply) {
  if (!current.find_path(name))
    return fail(404, "", "no path " + name, name);
  return commit(current, name, std::nullopt, apply);
}

void RuntimePaths::merge_into(Config& loaded) const {
  for (const auto& [name, keys] : overlay_)
    put_path(loaded, name, keys);
}

}  // namespace gms
