// The process's default TLS database, made cheap for server connections.
//
// glib-networking 2.74 (GnuTLS, Debian 12) builds a trust list from a
// connection's database whenever it makes a TLS connection, and a server
// connection gets the default database too: every RTSPS (and HTTPS API)
// handshake read and parsed the system's whole CA bundle again, 8-9 ms of
// CPU for a handshake that costs under 1 ms, so a burst of 200 handshakes a
// second took two cores. A server connection checks no certificate against
// that list (clients are not asked for one).
//
// The default database becomes one of ours that hands every question to the
// system's: a connection whose database is not GnuTLS's own builds no trust
// list, and a client connection (an rtsps:// back end without a CA file of its
// own) verifies its peer through the system's database as before.
#pragma once

namespace gms {

// Once per process, before the first TLS server connection; does nothing
// when TLS is not available or when it was done already.
void use_light_default_tls_database();

}  // namespace gms
