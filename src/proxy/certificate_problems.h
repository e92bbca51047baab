// What was wrong with a back end's TLS certificate, in words for a log
// line and a 503's reason ("expired, not for this host").
#pragma once

#include <gio/gio.h>

#include <string>

namespace gms::proxy {

std::string certificate_problems(GTlsCertificateFlags errors);

}  // namespace gms::proxy
