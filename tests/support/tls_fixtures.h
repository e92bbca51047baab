// RTSPS test material: a CA and a server certificate for 127.0.0.1 made at
// test time with the openssl command, and an in-process rtspsrc viewer that
// trusts that CA (rtspsrc's tls-database cannot be set from a URI).
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

#include "gms/ref.h"

namespace gms::test {

struct TestCerts {
  std::string dir;
  std::string ca;        // the CA's certificate (PEM)
  std::string cert;      // the server's certificate for 127.0.0.1 and localhost
  std::string key;       // its private key
  std::string other_ca;  // a CA that did not sign it
};

// Empty `dir` with the reason in `why` when openssl failed.
TestCerts make_test_certs(std::string& why);

// Certificates a back end should not be trusted with, all for the key of
// `certs` (in its directory): one signed by itself, one signed by the CA
// that expired yesterday, and one signed by the CA for another host
// (example.com only). False with the reason in `why` when openssl failed.
struct BadCerts {
  std::string self_signed, expired, wrong_host;
};
bool make_bad_certs(const TestCerts& certs, BadCerts& out, std::string& why);

// rtspsrc on `url` (rtsp://, rtsps://, rtsph://) into a depayloader, a
// decoder and a fakesink: counts decoded H.264 frames. `ca` (may be empty)
// is the CA file it trusts; `protocols` ("tcp", "udp") as rtspsrc's. rtspsrc
// 1.22 takes the profile (RTP/AVP or RTP/SAVP with the MIKEY key) from the
// SDP's m= lines.
class TlsViewer {
 public:
  TlsViewer(const std::string& url, const std::string& ca, const std::string& protocols = "tcp",
            bool decode = true);
  ~TlsViewer();
  TlsViewer(const TlsViewer&) = delete;
  TlsViewer& operator=(const TlsViewer&) = delete;

  unsigned frames() const { return frames_; }
  std::string error() const;

 private:
  static GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo*, gpointer self) noexcept;
  static gboolean on_bus(GstBus*, GstMessage* msg, gpointer self) noexcept;

  Ref<GstElement> pipeline_;
  guint bus_watch_ = 0;
  std::atomic<unsigned> frames_{0};
  mutable std::mutex lock_;  // protects error_
  std::string error_;
};

}  // namespace gms::test
