#include "tls_fixtures.h"

#include "process.h"

namespace gms::test {
namespace {

bool openssl(const std::vector<std::string>& args, std::string& why) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv, 60s);
  if (r.exit_status == 0)
    return true;
  why = "openssl " + args[0] + " failed: " + r.err;
  return false;
}

// A self-signed CA: EC keys are quick to make on a loaded machine.
bool make_ca(const std::string& dir, const std::string& name, std::string& why) {
  return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout",
                  dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem"},
                 why);
}

}  // namespace

TestCerts make_test_certs(std::string& why) {
  TestCerts c;
  GCharPtr d(g_dir_make_tmp("gms-tls-XXXXXX", nullptr));
  if (!d) {
    why = "no temporary directory";
    return c;
  }
  std::string dir = d.get();
  std::string ext = write_temp_file("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  if (!make_ca(dir, "ca", why) || !make_ca(dir, "other", why) ||
      !openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", dir + "/server.key", "-out",
                dir + "/server.csr"},
               why) ||
      !openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey",
                dir + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
                dir + "/server.pem"},
               why))
    return c;
  c.dir = dir;
  c.ca = dir + "/ca.pem";
  c.other_ca = dir + "/other.pem";
  c.cert = dir + "/server.pem";
  c.key = dir + "/server.key";
  return c;
}

bool make_bad_certs(const TestCerts& c, BadCerts& out, std::string& why) {
  const std::string dir = c.dir;
  // A server certificate for the key of `c` signed by its CA, valid for
  // `days` (-1: expired yesterday) with these subjectAltNames.
  auto signed_by_ca = [&](const std::string& name, const std::string& days, const std::string& san) {
    std::string ext = write_temp_file(name + ".ext", "subjectAltName=" + san + "\n");
    return openssl({"req", "-new", "-key", c.key, "-subj", "/CN=" + name, "-out",
                    dir + "/" + name + ".csr"},
                   why) &&
           openssl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", c.ca, "-CAkey",
                    dir + "/ca.key", "-CAcreateserial", "-days", days, "-extfile", ext, "-out",
                    dir + "/" + name + ".pem"},
                   why);
  };
  if (!openssl({"req", "-x509", "-key", c.key, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=IP:127.0.0.1", "-out", dir + "/self.pem"},
               why) ||
      !signed_by_ca("expired", "-1", "IP:127.0.0.1") ||
      !signed_by_ca("example.com", "2", "DNS:example.com"))
    return false;
  out.self_signed = dir + "/self.pem";
  out.expired = dir + "/expired.pem";
  out.wrong_host = dir + "/example.com.pem";
  return true;
}

TlsViewer::TlsViewer(const std::string& url, const std::string& ca, const std::string& protocols,
                     bool decode) {
  std::string line = "rtspsrc name=src latency=100 ! rtph264depay ! h264parse ! " +
                     std::string(decode ? "avdec_h264 ! " : "") +
                     "fakesink name=sink sync=false async=false";
  GErrorPtr err;
  pipeline_ = Ref<GstElement>::adopt(gst_parse_launch(line.c_str(), out(err)));
  if (!pipeline_) {
    error_ = err ? err->message : "no pipeline";
    return;
  }
  auto src = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "src"));
  g_object_set(src.get(), "location", url.c_str(), "tcp-timeout", G_GUINT64_CONSTANT(20000000),
               nullptr);
  gst_util_set_object_arg(G_OBJECT(src.get()), "protocols", protocols.c_str());
  if (!ca.empty()) {
    auto db = Ref<GTlsDatabase>::adopt(g_tls_file_database_new(ca.c_str(), out(err)));
    if (db)
      g_object_set(src.get(), "tls-database", db.get(), nullptr);
    else
      error_ = "CA: " + std::string(err ? err->message : "?");
  }
  auto sink = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "sink"));
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_buffer, this, nullptr);
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus, this);
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

TlsViewer::~TlsViewer() {
  if (pipeline_)
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  if (bus_watch_)
    g_source_remove(bus_watch_);
}

std::string TlsViewer::error() const {
  std::lock_guard<std::mutex> g(lock_);
  return error_;
}

GstPadProbeReturn TlsViewer::on_buffer(GstPad*, GstPadProbeInfo*, gpointer self) noexcept {
  static_cast<TlsViewer*>(self)->frames_++;
  return GST_PAD_PROBE_OK;
}

gboolean TlsViewer::on_bus(GstBus*, GstMessage* msg, gpointer data) noexcept {
  auto* self = static_cast<TlsViewer*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    {
      std::lock_guard<std::mutex> g(self->lock_);
      if (self->error_.empty())
        self->error_ = e ? e->message : "error";
    }
    if (e)
      g_error_free(e);
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace gms::test
