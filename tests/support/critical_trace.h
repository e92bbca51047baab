// Criticals are fatal in the tests (GstCheck's rule), and an abort alone
// says nothing of where one came from: a CRITICAL seen once under load could
// not be traced. trace_criticals() puts a log writer in front of GLib's
// default one that prints, for a CRITICAL or a fatal message, the thread's
// name and its stack (AddressSanitizer's symbolized trace in a sanitized
// build, else glibc's, which `addr2line -e LIB OFFSET` resolves) before the
// message goes out and the process aborts.
#pragma once

namespace gms::test {

// Once, before anything logs (GLib takes one writer per process).
void trace_criticals();

}  // namespace gms::test
