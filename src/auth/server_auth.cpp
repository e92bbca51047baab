#include "auth/server_auth.h"

#include <glib.h>

#include "gms/ref.h"

namespace gms::auth {

unsigned anonymous_roles(const std::string& text) {
  unsigned roles = 0;
  GStrvPtr items(g_strsplit(text.c_str(), ",", -1));
  for (gchar** it = items.get(); *it; ++it) {
    std::string r = g_strstrip(*it);
    roles |= r == "read" ? unsigned(kRead) : r == "publish" ? unsigned(kPublish) : 0u;
  }
  return roles;
}

ServerAuth::ServerAuth(GstRTSPServer* server) {
  auto a = Ref<GstRTSPAuth>::adopt(new_rtsp_auth(policy_));
  gst_rtsp_server_set_auth(server, a.get());
}

std::vector<std::string> ServerAuth::apply(const Config& cfg) {
  const ServerConfig& s = cfg.server;
  std::vector<std::string> notes;
  auto old = policy_->core();
  previous_ = old ? old->users() : nullptr;
  if (s.users_file.empty() && s.viewer_user.empty()) {
    policy_->set(nullptr, {});
    if (old)
      notes.push_back("users: none; every path is open again");
    return notes;
  }
  auto db = std::make_shared<UserDb>(s.users_file.empty() ? UserDb() : UserDb::load(s.users_file));
  if (!s.viewer_user.empty()) {
    // live555's -C: one user who may watch everything. Kept across
    // reloads unchanged so that its sessions are not ended.
    const User* before = previous_ ? previous_->find(s.viewer_user) : nullptr;
    if (before && before->password_is(s.viewer_password))
      db->put(*before);
    else
      db->put(make_user(s.viewer_user, s.viewer_password, s.realm, {{kRead, "/*"}}));
  }
  AuthSettings settings{s.realm, s.allow_basic_plaintext, s.nonce_lifetime};
  std::shared_ptr<Authenticator> core = old;
  const bool same = old && old->settings().realm == settings.realm &&
                    old->settings().allow_basic_plaintext == settings.allow_basic_plaintext &&
                    old->settings().nonce_lifetime == settings.nonce_lifetime;
  if (same)
    core->set_users(db);
  else
    core = std::make_shared<Authenticator>(settings, db);
  std::vector<AccessPolicy::Anonymous> anonymous;
  for (const auto& p : cfg.paths)
    anonymous.push_back({p.name, anonymous_roles(p.anonymous)});
  policy_->set(core, std::move(anonymous));
  if (previous_) {
    for (const auto& [name, u] : db->users())
      if (!previous_->find(name))
        notes.push_back("user " + name + " added");
    for (const auto& [name, u] : previous_->users()) {
      const User* now = db->find(name);
      if (!now)
        notes.push_back("user " + name + " removed");
      else if (!now->same_credentials(u) || now->grants != u.grants)
        notes.push_back("user " + name + " changed");
    }
  }
  return notes;
}

unsigned ServerAuth::end_stale_sessions(GstRTSPServer* server, GstRTSPSessionPool* pool) {
  if (!previous_)
    return 0;
  auto core = policy_->core();
  std::shared_ptr<const UserDb> now = core ? core->users() : std::make_shared<UserDb>();
  auto before = previous_;
  return close_clients_of_users(server, pool, [&](const std::string& name) {
    const User* a = before->find(name);
    const User* b = now->find(name);
    return b && (!a || (a->same_credentials(*b) && a->grants == b->grants));
  });
}

}  // namespace gms::auth
