// Whole RTSP requests as a client sends them: parsed by the library's own
// connection code (GstRTSPConnection, as every client connection is), then
// through our handlers of what they carry: the front door's CSeq reader, the
// PLAY checks of Range, Scale and Speed, and the seek those headers make.
//
// The PLAY checks are file-local to client_guard.cpp (they need a client's
// request and nothing else): the file is compiled into this target whole.
#include "core/client_guard.cpp"  // NOLINT(bugprone-suspicious-include)

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>

#include "core/request_cseq.h"

namespace {

// The harness's own failures (not the code under test's) say which call
// failed and why.
[[noreturn]] void fail(const char* what) {
  perror(what);
  abort();
}

// A loopback listener of our own: the library reads requests from TCP
// sockets only (it asks the socket for the peer's IP address).
int listener(sockaddr_in& addr) {
  static int fd = -1;
  static sockaddr_in bound{};
  if (fd < 0) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    bound.sin_family = AF_INET;
    bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof bound;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&bound), len) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0)
      fail("listener");
  }
  addr = bound;
  return fd;
}

// The bytes, as a connection from which the library reads them; the
// writer's end is closed so that a cut-off request ends instead of waiting.
GstRTSPConnection* connection_with(const uint8_t* data, size_t size) {
  // libFuzzer's time-out check is a SIGALRM without SA_RESTART: on a loaded
  // machine it can land inside connect() or accept(), which then fail with
  // EINTR (the hour-long run stopped on that). Held off until the
  // connection is made, it is delivered at the unblock.
  sigset_t alarm, before;
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm, &before);
  sockaddr_in addr{};
  int lfd = listener(addr);
  int writer = socket(AF_INET, SOCK_STREAM, 0);
  if (writer < 0 || connect(writer, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    fail("connect");
  int reader = accept(lfd, nullptr, nullptr);
  if (reader < 0)
    fail("accept");
  // The reader ends each connection with a reset, not a FIN: the writer,
  // which closed first, then leaves no TIME_WAIT socket behind (at a
  // thousand inputs a second they would fill the local port range).
  linger hard{1, 0};
  if (setsockopt(reader, SOL_SOCKET, SO_LINGER, &hard, sizeof hard) != 0)
    fail("SO_LINGER");
  size_t off = 0;
  while (off < size) {
    ssize_t n = write(writer, data + off, size - off);
    if (n <= 0)
      fail("write");
    off += size_t(n);
  }
  close(writer);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  GSocket* socket = g_socket_new_from_fd(reader, nullptr);
  if (!socket)
    abort();
  GstRTSPConnection* conn = nullptr;
  if (gst_rtsp_connection_create_from_socket(socket, "127.0.0.1", 554, nullptr, &conn) != GST_RTSP_OK)
    abort();
  g_object_unref(socket);
  return conn;
}

void handle(GstRTSPMessage* msg) {
  GstRTSPMethod method = GST_RTSP_INVALID;
  if (gst_rtsp_message_parse_request(msg, &method, nullptr, nullptr) != GST_RTSP_OK)
    return;
  GstRTSPContext ctx{};
  ctx.request = msg;
  GstRTSPStatusCode code = gms::check_play_headers(&ctx, nullptr);
  if (code != GST_RTSP_STS_OK && code != GST_RTSP_STS_BAD_REQUEST &&
      code != GST_RTSP_STS_INVALID_RANGE)
    abort();
  // A request the checks let through, with its headers as they left them.
  if (code == GST_RTSP_STS_OK) {
    gms::FileSeek seek = gms::parse_seek_headers(msg);
    if (!(seek.rate() > -4097.0 && seek.rate() < 4097.0))
      abort();  // Scale and Speed are each bounded by 64
    (void)seek.at_start();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024)  // the request size limit a connection gets
    return 0;
  (void)gms::request_cseq(std::string_view(reinterpret_cast<const char*>(data), size));
  GstRTSPConnection* conn = connection_with(data, size);
  // Pipelined requests, each parsed and handled in turn.
  for (int i = 0; i < 8; ++i) {
    GstRTSPMessage* msg = nullptr;
    gst_rtsp_message_new(&msg);
    GstRTSPResult res = gst_rtsp_connection_receive_usec(conn, msg, 100000);
    if (res == GST_RTSP_OK)
      handle(msg);
    gst_rtsp_message_free(msg);
    if (res != GST_RTSP_OK)
      break;
  }
  gst_rtsp_connection_free(conn);
  return 0;
}
