// The library's side of --add-user and --remove-user.
#include <gst-mediaserver/server.h>

#include <glib.h>

#include "auth/redact.h"
#include "auth/users.h"

namespace gms {
namespace {

auth::UserDb load_or_empty(const std::string& file) {
  if (!g_file_test(file.c_str(), G_FILE_TEST_EXISTS))
    return {};
  return auth::UserDb::load(file);
}

}  // namespace

void add_user(const std::string& file, const std::string& name, const std::string& password,
              const std::string& roles, const std::string& realm) {
  std::string why;
  if (!auth::valid_user_name(name, why))
    throw ConfigError({{"command line", 0, "", "--add-user", why}});
  std::vector<auth::Grant> grants;
  if (!auth::parse_grants(roles, grants, why))
    throw ConfigError({{"command line", 0, "", "--roles", why}});
  if (password.empty())
    throw ConfigError({{"command line", 0, "", "--add-user", "empty password"}});
  auth::UserDb db = load_or_empty(file);
  db.put(auth::make_user(name, password, realm, std::move(grants)));
  db.save(file);
}

bool remove_user(const std::string& file, const std::string& name) {
  auth::UserDb db = load_or_empty(file);
  if (!db.remove(name))
    return false;
  db.save(file);
  return true;
}

std::string redact_secrets(const std::string& text) { return auth::redact(text); }

}  // namespace gms
