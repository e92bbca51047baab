#include "auth/users.h"

#include <gst-mediaserver/config.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "auth/crypto.h"
#include "config/key_file_reader.h"
#include "config/value_parsers.h"
#include "gms/ref.h"

namespace gms::auth {
namespace {

// Slow enough to make a stolen file costly to guess from, fast enough for
// a Basic request (its result is cached per connection's credentials).
constexpr unsigned kIterations = 60000;

bool parse_role(const std::string& name, unsigned& out) {
  if (name == "read")
    out = kRead;
  else if (name == "publish")
    out = kPublish;
  else if (name == "admin")
    out = kAdmin;
  else
    return false;
  return true;
}

const char* role_name(unsigned r) {
  return r == kRead ? "read" : r == kPublish ? "publish" : "admin";
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool is_hex(const std::string& s, size_t len) {
  if (len && s.size() != len)
    return false;
  for (char c : s)
    if (!g_ascii_isxdigit(c))
      return false;
  return !s.empty();
}

}  // namespace

bool path_matches(const std::string& pattern, const std::string& path) {
  if (pattern.empty())
    return false;
  if (pattern.back() == '*')
    return path.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  if (pattern.back() == '/')
    return path.rfind(pattern, 0) == 0;
  return path == pattern || path.rfind(pattern + "/", 0) == 0;
}

bool parse_grants(const std::string& text, std::vector<Grant>& out, std::string& why) {
  out.clear();
  GStrvPtr items(g_strsplit(text.c_str(), ",", -1));
  for (gchar** it = items.get(); *it; ++it) {
    std::string item = trim(*it);
    if (item.empty())
      continue;
    auto colon = item.find(':');
    Grant g;
    std::string role = colon == std::string::npos ? item : trim(item.substr(0, colon));
    g.pattern = colon == std::string::npos ? "/*" : trim(item.substr(colon + 1));
    if (!parse_role(role, g.roles)) {
      why = "'" + role + "' is not a role (use read, publish or admin)";
      return false;
    }
    std::string bad;
    if (g.pattern != "/*" && !check_path_name(g.pattern, bad, true)) {
      why = g.pattern + ": " + bad;
      return false;
    }
    out.push_back(std::move(g));
  }
  if (out.empty()) {
    why = "no roles (e.g. read:/*,publish:/live/*)";
    return false;
  }
  return true;
}

std::string grants_to_string(const std::vector<Grant>& grants) {
  std::string s;
  for (const auto& g : grants)
    s += (s.empty() ? "" : ",") + std::string(role_name(g.roles)) + ":" + g.pattern;
  return s;
}

bool User::allows(unsigned roles, const std::string& path) const {
  for (const auto& g : grants)
    if (((g.roles & roles) || g.roles == kAdmin) && path_matches(g.pattern, path))
      return true;
  return false;
}

bool User::allows_anywhere(unsigned roles) const {
  for (const auto& g : grants)
    if ((g.roles & roles) || g.roles == kAdmin)
      return true;
  return false;
}

bool User::password_is(const std::string& password) const {
  if (pbkdf2.empty() || iterations == 0)
    return false;
  return equal_constant_time(pbkdf2_hex(password, salt, iterations), pbkdf2);
}

bool User::same_credentials(const User& o) const {
  return name == o.name && salt == o.salt && pbkdf2 == o.pbkdf2 && ha1 == o.ha1;
}

User make_user(const std::string& name, const std::string& password, const std::string& realm,
               std::vector<Grant> grants) {
  User u;
  u.name = name;
  u.grants = std::move(grants);
  u.salt = random_hex(16);
  u.iterations = kIterations;
  u.pbkdf2 = pbkdf2_hex(password, u.salt, u.iterations);
  u.ha1[realm] = digest_ha1(name, realm, password);
  return u;
}

bool valid_user_name(const std::string& name, std::string& why) {
  if (name.empty() || name.size() > 64) {
    why = "a user name has 1 to 64 characters";
    return false;
  }
  for (unsigned char c : name)
    if (!(g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.' || c == '@')) {
      why = "'" + name + "': a user name has letters, digits and _ - . @ only";
      return false;
    }
  return true;
}

UserDb UserDb::parse(const std::string& text, const std::string& origin) {
  std::vector<ConfigIssue> issues;
  KeyFileContents kf = read_key_file(text, origin, issues);
  UserDb db;
  for (const auto& g : kf.groups) {
    auto bad = [&](const std::string& key, int line, const std::string& why) {
      issues.push_back({origin, line, g.name, key, why});
    };
    if (g.name.rfind("user ", 0) != 0) {
      bad("", g.line, "unknown group; expected [user NAME]");
      continue;
    }
    User u;
    u.name = trim(g.name.substr(5));
    if (std::string why; !valid_user_name(u.name, why)) {
      bad("", g.line, why);
      continue;
    }
    for (const auto& k : g.keys) {
      std::string why;
      if (k.key == "roles") {
        if (!parse_grants(k.value, u.grants, why))
          bad(k.key, k.line, why);
      } else if (k.key == "salt") {
        u.salt = k.value;
        if (!is_hex(u.salt, 0))
          bad(k.key, k.line, "not hex");
      } else if (k.key == "pbkdf2-sha256") {
        auto colon = k.value.find(':');
        uint64_t n = 0;
        if (colon == std::string::npos ||
            !parse_uint(k.value.substr(0, colon), 1000, 10000000, n, why) ||
            !is_hex(k.value.substr(colon + 1), 64)) {
          bad(k.key, k.line, "expected ITERATIONS:HASH (64 hex digits)");
          continue;
        }
        u.iterations = unsigned(n);
        u.pbkdf2 = k.value.substr(colon + 1);
      } else if (k.key == "ha1") {
        GStrvPtr items(g_strsplit(k.value.c_str(), ";", -1));
        for (gchar** it = items.get(); *it; ++it) {
          std::string item = trim(*it);
          auto colon = item.rfind(':');
          if (item.empty())
            continue;
          if (colon == std::string::npos || !is_hex(item.substr(colon + 1), 32)) {
            bad(k.key, k.line, "expected REALM:HA1 (32 hex digits), separated by ';'");
            break;
          }
          u.ha1[item.substr(0, colon)] = item.substr(colon + 1);
        }
      } else {
        bad(k.key, k.line, "unknown key (roles, salt, pbkdf2-sha256, ha1)");
      }
    }
    if (u.grants.empty() && !g.find("roles"))
      bad("roles", g.line, "missing");
    if (u.pbkdf2.empty() && u.ha1.empty())
      bad("", g.line, "no password digest (neither pbkdf2-sha256 nor ha1)");
    if (!u.pbkdf2.empty() && u.salt.empty())
      bad("salt", g.line, "missing (pbkdf2-sha256 needs it)");
    db.users_[u.name] = std::move(u);
  }
  if (!issues.empty())
    throw ConfigError(std::move(issues));
  return db;
}

UserDb UserDb::load(const std::string& file) {
  return parse(read_config_text(file), file);
}

std::string UserDb::to_text() const {
  auto kf = Ref<GKeyFile>::adopt(g_key_file_new());
  for (const auto& [name, u] : users_) {
    std::string group = "user " + name;
    g_key_file_set_string(kf.get(), group.c_str(), "roles", grants_to_string(u.grants).c_str());
    if (!u.salt.empty())
      g_key_file_set_string(kf.get(), group.c_str(), "salt", u.salt.c_str());
    if (!u.pbkdf2.empty())
      g_key_file_set_string(kf.get(), group.c_str(), "pbkdf2-sha256",
                            (std::to_string(u.iterations) + ":" + u.pbkdf2).c_str());
    std::string ha1;
    for (const auto& [realm, h] : u.ha1)
      ha1 += (ha1.empty() ? "" : ";") + realm + ":" + h;
    if (!ha1.empty())
      g_key_file_set_string(kf.get(), group.c_str(), "ha1", ha1.c_str());
  }
  gsize len = 0;
  GCharPtr data(g_key_file_to_data(kf.get(), &len, nullptr));
  return std::string(data.get(), len);
}

void UserDb::save(const std::string& file) const {
  std::string text = to_text();
  GErrorPtr err;
  // The digests are secrets: nobody but the owner reads the file.
  if (!g_file_set_contents_full(file.c_str(), text.data(), gssize(text.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, out(err)))
    throw ConfigError({{file, 0, "", "", std::string("cannot write: ") + err->message}});
}

const User* UserDb::find(const std::string& name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

}  // namespace gms::auth
