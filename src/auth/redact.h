// The one place that hides secrets in text meant for logs, API answers and
// error pages: passwords in URLs (rtsp://user:***@host), Authorization
// headers, Digest responses, password= and digest settings.
#pragma once

#include <string>

namespace gms::auth {

std::string redact(const std::string& text);

}  // namespace gms::auth
