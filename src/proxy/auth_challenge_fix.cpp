// A back end's 401 must not be able to crash the process.
//
// rtspsrc 1.22 (and rtspclientsink) walk the parameter list of every Digest
// challenge they are sent without checking it exists: a bare
// "WWW-Authenticate: Digest" (no realm, no nonce) leaves the list NULL and
// the streaming thread dereferences it, whatever credentials are set. The
// parse happens before rtspsrc looks at its credentials and there is no
// property or signal to keep a response from it, so the fix sits under it:
// this library defines the parser rtspsrc calls, and the dynamic linker binds
// rtspsrc (loaded later, as a plugin) to this definition before
// libgstrtsp-1.0's. It calls the real parser and gives every parameterless
// challenge an empty list, which rtspsrc then walks safely (and, for want of
// a nonce, answers with an ordinary "Unauthorized" error).
#include <dlfcn.h>
#include <gst/rtsp/gstrtspmessage.h>

namespace {

using ParseFn = GstRTSPAuthCredential** (*)(GstRTSPMessage*, GstRTSPHeaderField);

ParseFn real_parser() {
  static ParseFn fn = reinterpret_cast<ParseFn>(
      dlsym(RTLD_NEXT, "gst_rtsp_message_parse_auth_credentials"));
  return fn;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) GstRTSPAuthCredential**
gst_rtsp_message_parse_auth_credentials(GstRTSPMessage* msg, GstRTSPHeaderField field) {
  ParseFn parse = real_parser();
  if (!parse)
    return nullptr;  // no challenge understood: rtspsrc reports "Unauthorized"
  GstRTSPAuthCredential** credentials = parse(msg, field);
  for (GstRTSPAuthCredential** c = credentials; c && *c; ++c) {
    // gst_rtsp_auth_credentials_free() frees this array with g_free().
    if (!(*c)->params)
      (*c)->params = g_new0(GstRTSPAuthParam*, 1);
  }
  return credentials;
}
