// Users and their roles per path pattern, read from and written to the
// users file (a GLib key file, one group per user):
//
//   [user alice]
//   roles=read:/*,publish:/live/*
//   salt=9f2c…                      random, hex
//   pbkdf2-sha256=60000:4be1…       iterations:hash (Basic)
//   ha1=gst-mediaserver:5d41…       realm:MD5(user:realm:password) (Digest)
//
// No password is kept in clear: Basic is checked against the salted slow
// hash, Digest against HA1 (which Digest needs; it is only good for that
// realm). The file is rewritten whole and atomically, mode 0600.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gms::auth {

enum Role : unsigned { kRead = 1u << 0, kPublish = 1u << 1, kAdmin = 1u << 2 };

struct Grant {
  unsigned roles = 0;   // Role bits
  std::string pattern;  // "/*", "/live/*", "/cam1"
  bool operator==(const Grant&) const = default;
};

// "/*" and "/live/*": every path below; "/cam1": that path and its
// sub-URLs ("/cam1/stream=0"); a file root's files are below its name.
bool path_matches(const std::string& pattern, const std::string& path);

// "read:/*,publish:/live/*" (admin grants every role there); false with `why`.
bool parse_grants(const std::string& text, std::vector<Grant>& out, std::string& why);
std::string grants_to_string(const std::vector<Grant>& grants);

struct User {
  std::string name;
  std::vector<Grant> grants;
  std::string salt;
  unsigned iterations = 0;
  std::string pbkdf2;                     // empty: no Basic
  std::map<std::string, std::string> ha1;  // by realm

  // Does any grant give one of `roles` on `path`? Admin counts as every role.
  bool allows(unsigned roles, const std::string& path) const;
  bool allows_anywhere(unsigned roles) const;
  bool password_is(const std::string& password) const;  // the slow hash
  bool same_credentials(const User& o) const;
};

// A user with a fresh salt, the slow hash and HA1 for `realm`.
User make_user(const std::string& name, const std::string& password, const std::string& realm,
               std::vector<Grant> grants);

bool valid_user_name(const std::string& name, std::string& why);

class UserDb {
 public:
  // Throws ConfigError naming the file, line and key.
  static UserDb load(const std::string& file);
  static UserDb parse(const std::string& text, const std::string& origin);
  std::string to_text() const;
  // Writes atomically with mode 0600; throws ConfigError.
  void save(const std::string& file) const;

  const User* find(const std::string& name) const;
  void put(User u) { users_[u.name] = std::move(u); }
  bool remove(const std::string& name) { return users_.erase(name) > 0; }
  const std::map<std::string, User>& users() const { return users_; }
  bool empty() const { return users_.empty(); }

 private:
  std::map<std::string, User> users_;
};

}  // namespace gms::auth
