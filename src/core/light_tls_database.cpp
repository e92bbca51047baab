#include "core/light_tls_database.h"

#include <gio/gio.h>

#include <mutex>

#include "gms/ref.h"

// GmsTlsDelegate: a GTlsDatabase whose every answer is another database's.
G_BEGIN_DECLS
#define GMS_TYPE_TLS_DELEGATE (gms_tls_delegate_get_type())
G_DECLARE_FINAL_TYPE(GmsTlsDelegate, gms_tls_delegate, GMS, TLS_DELEGATE, GTlsDatabase)
G_END_DECLS

struct _GmsTlsDelegate {
  GTlsDatabase parent;
  GTlsDatabase* inner;  // owned
};

G_DEFINE_FINAL_TYPE(GmsTlsDelegate, gms_tls_delegate, G_TYPE_TLS_DATABASE)

namespace {

GTlsDatabase* inner(GTlsDatabase* self) { return GMS_TLS_DELEGATE(self)->inner; }

GTlsCertificateFlags verify_chain(GTlsDatabase* self, GTlsCertificate* chain, const gchar* purpose,
                                  GSocketConnectable* identity, GTlsInteraction* interaction,
                                  GTlsDatabaseVerifyFlags flags, GCancellable* cancellable,
                                  GError** error) noexcept {
  return g_tls_database_verify_chain(inner(self), chain, purpose, identity, interaction, flags,
                                     cancellable, error);
}

gchar* create_certificate_handle(GTlsDatabase* self, GTlsCertificate* certificate) noexcept {
  return g_tls_database_create_certificate_handle(inner(self), certificate);
}

GTlsCertificate* lookup_certificate_for_handle(GTlsDatabase* self, const gchar* handle,
                                               GTlsInteraction* interaction,
                                               GTlsDatabaseLookupFlags flags,
                                               GCancellable* cancellable, GError** error) noexcept {
  return g_tls_database_lookup_certificate_for_handle(inner(self), handle, interaction, flags,
                                                      cancellable, error);
}

GTlsCertificate* lookup_certificate_issuer(GTlsDatabase* self, GTlsCertificate* certificate,
                                           GTlsInteraction* interaction,
                                           GTlsDatabaseLookupFlags flags,
                                           GCancellable* cancellable, GError** error) noexcept {
  return g_tls_database_lookup_certificate_issuer(inner(self), certificate, interaction, flags,
                                                  cancellable, error);
}

GList* lookup_certificates_issued_by(GTlsDatabase* self, GByteArray* issuer_raw_dn,
                                     GTlsInteraction* interaction, GTlsDatabaseLookupFlags flags,
                                     GCancellable* cancellable, GError** error) noexcept {
  return g_tls_database_lookup_certificates_issued_by(inner(self), issuer_raw_dn, interaction,
                                                      flags, cancellable, error);
}

void finalize(GObject* object) noexcept {
  g_clear_object(&GMS_TLS_DELEGATE(object)->inner);
  G_OBJECT_CLASS(gms_tls_delegate_parent_class)->finalize(object);
}

}  // namespace

// The asynchronous calls are the base class's: the synchronous ones above
// in a worker thread.
static void gms_tls_delegate_class_init(GmsTlsDelegateClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = finalize;
  GTlsDatabaseClass* db = G_TLS_DATABASE_CLASS(klass);
  db->verify_chain = verify_chain;
  db->create_certificate_handle = create_certificate_handle;
  db->lookup_certificate_for_handle = lookup_certificate_for_handle;
  db->lookup_certificate_issuer = lookup_certificate_issuer;
  db->lookup_certificates_issued_by = lookup_certificates_issued_by;
}

static void gms_tls_delegate_init(GmsTlsDelegate*) {}

namespace gms {

void use_light_default_tls_database() {
  static std::once_flag once;
  std::call_once(once, [] {
    GTlsBackend* backend = g_tls_backend_get_default();
    if (!backend || !g_tls_backend_supports_tls(backend))
      return;
    auto system = Ref<GTlsDatabase>::adopt(g_tls_backend_get_default_database(backend));
    if (!system || GMS_IS_TLS_DELEGATE(system.get()))
      return;
    auto* delegate = GMS_TLS_DELEGATE(g_object_new(GMS_TYPE_TLS_DELEGATE, nullptr));
    delegate->inner = system.release();
    g_tls_backend_set_default_database(backend, G_TLS_DATABASE(delegate));
    g_object_unref(delegate);
  });
}

}  // namespace gms
