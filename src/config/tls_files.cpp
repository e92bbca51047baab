#include "config/tls_files.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace gms {
namespace {

// Without glib-networking GIO has a dummy backend that refuses every
// certificate with a message that does not say what is missing.
bool tls_available(std::string& why) {
  if (g_tls_backend_supports_tls(g_tls_backend_get_default()))
    return true;
  why = "TLS is not available: GIO has no TLS backend (install glib-networking)";
  return false;
}

bool readable(const std::string& file, std::string& why) {
  if (g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR))
    return true;
  why = "'" + file + "' is not a file" +
        (g_file_test(file.c_str(), G_FILE_TEST_EXISTS) ? "" : " (it does not exist)");
  return false;
}

// GIO takes a key that does not belong to the certificate, and every
// handshake then fails: compare them here, with OpenSSL.
bool key_matches(const std::string& cert_pem, const std::string& key_pem) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(key_pem.data(), int(key_pem.size()));
  X509* x = cb ? PEM_read_bio_X509(cb, nullptr, nullptr, nullptr) : nullptr;
  EVP_PKEY* k = kb ? PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr) : nullptr;
  bool ok = x && k && X509_check_private_key(x, k) == 1;
  EVP_PKEY_free(k);
  X509_free(x);
  BIO_free(kb);
  BIO_free(cb);
  return ok;
}

}  // namespace

std::string absolute_file(const std::string& value, const std::string& base_dir) {
  GCharPtr base(g_canonicalize_filename(base_dir.empty() ? "." : base_dir.c_str(), nullptr));
  GCharPtr abs(g_canonicalize_filename(value.c_str(), base.get()));
  return abs.get();
}

Ref<GTlsCertificate> load_certificate(const std::string& cert_file, const std::string& key_file,
                                      std::string& why) {
  if (!tls_available(why) || !readable(cert_file, why) ||
      (!key_file.empty() && !readable(key_file, why)))
    return {};
  GErrorPtr err;
  GTlsCertificate* cert =
      key_file.empty() ? g_tls_certificate_new_from_file(cert_file.c_str(), out(err))
                       : g_tls_certificate_new_from_files(cert_file.c_str(), key_file.c_str(),
                                                          out(err));
  if (!cert) {
    why = std::string("cannot use the certificate and key: ") + err->message;
    return {};
  }
  auto held = Ref<GTlsCertificate>::adopt(cert);
  gchar *key_pem = nullptr, *cert_pem = nullptr;
  g_object_get(cert, "private-key-pem", &key_pem, "certificate-pem", &cert_pem, nullptr);
  GCharPtr key(key_pem), pem(cert_pem);
  if (!key) {
    why = "'" + (key_file.empty() ? cert_file : key_file) +
          "' holds no private key for the certificate (set tls-key)";
    return {};
  }
  if (!pem || !key_matches(pem.get(), key.get())) {
    why = "the private key does not belong to the certificate of '" + cert_file + "'";
    return {};
  }
  return held;
}

Ref<GTlsDatabase> load_ca_file(const std::string& ca_file, std::string& why) {
  if (!tls_available(why) || !readable(ca_file, why))
    return {};
  GErrorPtr err;
  GTlsDatabase* db = g_tls_file_database_new(ca_file.c_str(), out(err));
  if (!db) {
    why = std::string("cannot read the CA certificates: ") + err->message;
    return {};
  }
  return Ref<GTlsDatabase>::adopt(db);
}

}  // namespace gms
