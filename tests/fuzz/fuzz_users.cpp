// The users file is written by people and by `gst-mediaserver user ...`,
// and read again at every reload: any bytes must give a user table or a
// ConfigError naming the line, never a crash, a hang or another exception.
// A table that parsed must also survive being written and read back
// unchanged (what the user commands do to the file), and its grants must
// answer path checks for any path.
#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/users.h"
#include <gst-mediaserver/config.h>

namespace {

void check_round_trip(const gms::auth::UserDb& db) {
  gms::auth::UserDb again = gms::auth::UserDb::parse(db.to_text(), "rewritten");
  if (again.users().size() != db.users().size())
    std::abort();
  for (const auto& [name, u] : db.users()) {
    const gms::auth::User* v = again.find(name);
    if (!v || !v->same_credentials(u) || v->grants != u.grants || v->iterations != u.iterations)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    gms::auth::UserDb db = gms::auth::UserDb::parse(text, "fuzz.users");
    check_round_trip(db);
    // The grants against a path made of the input's last line (never the
    // slow password hash: its iterations come from the file).
    std::string path = "/" + text.substr(text.rfind('\n') == std::string::npos
                                              ? 0 : text.rfind('\n') + 1);
    for (const auto& [name, u] : db.users()) {
      (void)u.allows(gms::auth::kRead, path);
      (void)u.allows_anywhere(gms::auth::kPublish);
      (void)gms::auth::grants_to_string(u.grants);
    }
  } catch (const gms::ConfigError& e) {
    for (const auto& issue : e.issues())
      (void)issue.to_string();
  }
  return 0;
}
