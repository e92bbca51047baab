// Certificates and CA files named in the configuration, read with GIO's TLS
// backend (glib-networking). Used when the configuration is checked, so
// that a bad file stops the start with its reason, and again by the server.
#pragma once

#include <gio/gio.h>

#include <string>

#include "gms/ref.h"

namespace gms {

// `value` made absolute against `base_dir` (the working directory when
// empty), as the configuration reads every file name.
std::string absolute_file(const std::string& value, const std::string& base_dir);

// The certificate of `cert_file` with the private key of `key_file` (empty:
// the key is in `cert_file`). Null with the reason in `why`.
Ref<GTlsCertificate> load_certificate(const std::string& cert_file, const std::string& key_file,
                                      std::string& why);

// The CA certificates of `ca_file` as a database for checking a peer. Null
// with the reason in `why`.
Ref<GTlsDatabase> load_ca_file(const std::string& ca_file, std::string& why);

}  // namespace gms
