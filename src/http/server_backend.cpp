#include "http/server_backend.h"

namespace gms::http {

ApiBackend backend_of(Server& server) {
  Server* s = &server;
  ApiBackend b;
  b.paths = [s] { return s->paths(); };
  b.recordings = [s] { return s->recordings(); };
  b.counters = [s] { return s->figures(); };
  b.rtsp_port = [s] { return s->port(); };
  b.set_recording = [s](const std::string& path, bool start) {
    return start ? s->start_recording(path) : s->stop_recording(path);
  };
  b.draining = [s] { return s->draining(); };
  b.sessions = [s] { return s->sessions(); };
  b.end_session = [s](const std::string& id) { return s->kick_session(id); };
  b.path = [s](const std::string& name) { return s->path(name); };
  b.add_path = [s](const std::string& body) { return s->add_path_json(body); };
  b.patch_path = [s](const std::string& name, const std::string& body) {
    return s->change_path_json(name, body);
  };
  b.remove_path = [s](const std::string& name) { return s->remove_path(name); };
  b.users.any = [s] { return s->has_users(); };
  b.users.realm = [s] { return s->users_realm(); };
  b.users.basic_over_plain = [s] { return s->basic_over_plain_allowed(); };
  b.users.check_password = [s](const std::string& user, const std::string& password) {
    return s->check_password(user, password);
  };
  b.users.ha1 = [s](const std::string& user) { return s->digest_ha1(user); };
  b.users.may = [s](const std::string& user, bool admin, const std::string& path) {
    return s->user_may(user, admin ? Server::Role::kAdmin : Server::Role::kRead, path);
  };
  b.users.count_failure = [s] { s->count_auth_failure(); };
  return b;
}

}  // namespace gms::http
