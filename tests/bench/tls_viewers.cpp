// RTSPS cost: N viewers of one 1280x720 30 fps ~3 Mbit/s H.264 channel (the
// bench clip looping as a live file channel), first over plain RTSP, then
// the same N over RTSPS, RTP interleaved in the RTSP connection (over TLS,
// the media is encrypted too). Prints the server's CPU per phase and the
// ratio, with the bytes each phase delivered so that the two compare like
// for like.
//
// The viewers are threads of this program with blocking GIO streams, the
// same code for both phases (GSocketClient with TLS on or off).
//
//   build/tests/tls_viewers [VIEWERS] [SECONDS]    (default 100 viewers, 20 s)
#include <gio/gio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "child.h"
#include "process.h"
#include "tls_fixtures.h"

using namespace gms::test;
using gms::GErrorPtr;
using gms::Ref;

namespace {

struct Client {
  std::thread thread;
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> playing{false}, failed{false};
  Ref<GCancellable> cancel = Ref<GCancellable>::adopt(g_cancellable_new());
  std::string error;  // written by the thread before `failed`
};

bool write_all(GOutputStream* out, const std::string& s, GCancellable* c) {
  return g_output_stream_write_all(out, s.data(), s.size(), nullptr, c, nullptr);
}

// One RTSP reply (headers and body), skipping interleaved frames before it.
std::string read_reply(GInputStream* in, std::string& buf, GCancellable* c) {
  for (int reads = 0; reads < 10000; ++reads) {
    while (buf.size() >= 4 && buf[0] == '$') {
      size_t len = (uint8_t(buf[2]) << 8) | uint8_t(buf[3]);
      if (buf.size() < 4 + len)
        break;
      buf.erase(0, 4 + len);
    }
    auto e = buf.find("\r\n\r\n");
    if (e != std::string::npos && !buf.empty() && buf[0] != '$') {
      size_t len = 0;
      auto cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < e)
        len = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= e + 4 + len) {
        std::string r = buf.substr(0, e + 4 + len);
        buf.erase(0, e + 4 + len);
        return r;
      }
    }
    char tmp[16384];
    gssize n = g_input_stream_read(in, tmp, sizeof tmp, c, nullptr);
    if (n <= 0)
      return {};
    buf.append(tmp, size_t(n));
  }
  return {};
}

gboolean trust_ca(GSocketClient*, GSocketClientEvent event, GSocketConnectable*,
                  GIOStream* conn, gpointer db) noexcept {
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_tls_connection_set_database(G_TLS_CONNECTION(conn), static_cast<GTlsDatabase*>(db));
  return FALSE;
}

void view(Client& cl, uint16_t port, bool tls, GTlsDatabase* ca, const std::string& url) {
  auto fail = [&](const std::string& why) {
    cl.error = why;
    cl.failed = true;
  };
  auto sc = Ref<GSocketClient>::adopt(g_socket_client_new());
  g_socket_client_set_timeout(sc.get(), 30);
  if (tls) {
    g_socket_client_set_tls(sc.get(), TRUE);
    g_signal_connect(sc.get(), "event", G_CALLBACK(trust_ca), ca);
  }
  GErrorPtr err;
  auto conn = Ref<GSocketConnection>::adopt(
      g_socket_client_connect_to_host(sc.get(), "127.0.0.1", port, cl.cancel.get(), out(err)));
  if (!conn)
    return fail(std::string("connect: ") + (err ? err->message : "?"));
  GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(conn.get()));
  GOutputStream* o = g_io_stream_get_output_stream(G_IO_STREAM(conn.get()));
  std::string buf;
  GCancellable* c = cl.cancel.get();
  write_all(o, "DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n", c);
  if (read_reply(in, buf, c).find(" 200 ") == std::string::npos)
    return fail("DESCRIBE");
  write_all(o, "SETUP " + url + "/stream=0 RTSP/1.0\r\nCSeq: 2\r\n"
               "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n", c);
  std::string r = read_reply(in, buf, c);
  auto s = r.find("Session: ");
  if (r.find(" 200 ") == std::string::npos || s == std::string::npos)
    return fail("SETUP");
  std::string session = r.substr(s + 9, r.find_first_of(";\r", s + 9) - s - 9);
  write_all(o, "PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + session + "\r\n\r\n", c);
  if (read_reply(in, buf, c).find(" 200 ") == std::string::npos)
    return fail("PLAY");
  cl.playing = true;
  static thread_local char data[65536];
  for (;;) {
    gssize n = g_input_stream_read(in, data, sizeof data, c, nullptr);
    if (n <= 0)
      break;
    cl.bytes += uint64_t(n);
  }
  g_io_stream_close(G_IO_STREAM(conn.get()), nullptr, nullptr);
}

struct Phase {
  unsigned playing = 0, failed = 0;
  double cpu = 0;         // the server, % of one core
  double client_cpu = 0;  // this program's viewers, % of one core
  double mbit = 0;        // delivered per viewer, Mbit/s
};

Phase run_phase(ServerProcess& srv, uint16_t port, bool tls, GTlsDatabase* ca,
                const std::string& url, unsigned n, int seconds) {
  std::vector<std::unique_ptr<Client>> clients;
  for (unsigned i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<Client>());
    Client* c = clients.back().get();
    c->thread = std::thread(view, std::ref(*c), port, tls, ca, url);
  }
  Phase p;
  auto ready = [&] {
    unsigned done = 0;
    for (auto& c : clients)
      done += (c->playing && c->bytes > 200000) || c->failed;
    return done == n;
  };
  wait_until(ready, std::chrono::seconds(120));
  uint64_t bytes0 = 0;
  for (auto& c : clients)
    bytes0 += c->bytes;
  double cpu0 = process_cpu_seconds(srv.pid());
  double mine0 = process_cpu_seconds(getpid());
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measuring window
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu1 = process_cpu_seconds(srv.pid());
  double mine1 = process_cpu_seconds(getpid());
  uint64_t bytes1 = 0;
  for (auto& c : clients) {
    bytes1 += c->bytes;
    p.playing += c->playing && !c->failed;
    p.failed += c->failed;
  }
  for (auto& c : clients)
    g_cancellable_cancel(c->cancel.get());
  for (auto& c : clients)
    c->thread.join();
  for (auto& c : clients)
    if (c->failed) {
      fprintf(stderr, "  a viewer failed: %s\n", c->error.c_str());
      break;
    }
  p.cpu = 100.0 * (cpu1 - cpu0) / elapsed;
  p.client_cpu = 100.0 * (mine1 - mine0) / elapsed;
  p.mbit = p.playing ? double(bytes1 - bytes0) * 8 / elapsed / 1e6 / p.playing : 0;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  unsigned n = argc > 1 ? unsigned(std::atoi(argv[1])) : 100;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::string why;
  TestCerts certs = make_test_certs(why);
  if (certs.dir.empty()) {
    fprintf(stderr, "certificates: %s\n", why.c_str());
    return 1;
  }
  std::string clip = make_bench_clip(why);
  if (clip.empty()) {
    fprintf(stderr, "clip: %s\n", why.c_str());
    return 1;
  }
  GErrorPtr err;
  auto ca = Ref<GTlsDatabase>::adopt(g_tls_file_database_new(certs.ca.c_str(), out(err)));
  gms::GCharPtr dir(g_path_get_dirname(clip.c_str()));
  uint16_t tls_port = free_port();
  ServerProcess srv({"--root", dir.get(), "--loop", "--tls-cert", certs.cert, "--tls-key",
                     certs.key, "--tls-port", std::to_string(tls_port)});
  if (!srv.ready()) {
    fprintf(stderr, "server did not start:\n%s\n", srv.log_tail().c_str());
    return 1;
  }
  printf("%u viewers of a 1280x720 30 fps ~3 Mbit/s H.264 channel, RTP over the RTSP "
         "connection, %d s each\n", n, seconds);
  Phase plain = run_phase(srv, srv.port(), false, ca.get(), srv.url("/clip.mp4"), n, seconds);
  auto show = [](const char* name, const Phase& p) {
    printf("%-11s %u playing, %u failed, server CPU %.1f %% of a core, %.2f Mbit/s per viewer "
           "(viewers' CPU %.1f %%)\n",
           name, p.playing, p.failed, p.cpu, p.mbit, p.client_cpu);
  };
  show("plain RTSP:", plain);
  std::string tls_url = "rtsps://127.0.0.1:" + std::to_string(tls_port) + "/clip.mp4";
  Phase tls = run_phase(srv, tls_port, true, ca.get(), tls_url, n, seconds);
  show("RTSPS:", tls);
  if (plain.cpu > 0 && plain.mbit > 0 && tls.mbit > 0) {
    printf("RTSPS / plain server CPU: %.2f\n", tls.cpu / plain.cpu);
    // When the TLS viewers could not take the whole stream, the plain
    // ratio flatters TLS: per byte delivered says what each costs.
    printf("RTSPS / plain server CPU per byte delivered: %.2f\n",
           (tls.cpu / tls.mbit) / (plain.cpu / plain.mbit));
  }
  return plain.failed || tls.failed ? 1 : 0;
}
