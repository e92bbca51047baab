// REGISTER (a back end asking to be proxied) with users: Digest with the
// users' HA1, and the user needs publish or admin somewhere.
#pragma once

#include <string>

#include "auth/authenticator.h"

namespace gms::auth {

bool register_allowed(const Authenticator& core, const std::string& authorization,
                      const std::string& method, const std::string& nonce);

}  // namespace gms::auth
