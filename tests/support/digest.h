// Digest authentication by hand, for raw RTSP clients of a server with
// users (realm gst-mediaserver).
#pragma once

#include <string>

namespace gms::test {

// The parameter `name` of a WWW-Authenticate challenge ("" if absent).
std::string challenge_param(const std::string& challenge, const std::string& name);

// An Authorization header line, Digest without qop as rtspsrc sends it.
std::string digest_header(const std::string& user, const std::string& pw,
                          const std::string& method, const std::string& uri,
                          const std::string& nonce);

}  // namespace gms::test
