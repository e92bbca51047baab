// File descriptor exhaustion: the server runs with 128 descriptors
// (prlimit) and 200 clients connect and send nothing. accept() fails with
// EMFILE while they are there; the server must not spin on the listening
// socket that stays readable (its CPU time over 5 s is measured), must say
// so once rather than once per attempt, must keep a viewer that was already
// playing, and must serve new clients once the others have left.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"

namespace gms::test {
namespace {

// A TCP connection that never sends: connect() without waiting for it.
int idle_connection(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  return fd;
}

TEST(FdFaults, DescriptorExhaustionNeitherSpinsNorFloodsAndRecovers) {
  // request-timeout: the idle connections the server did accept stay for
  // the whole measurement.
  ServerProcess srv({write_temp_file("fd.conf", "[server]\nverbose=1\nsession-timeout=5\n"
                                                "request-timeout=60\n[path /ref]\nlaunch=" +
                                                    std::string(kMjpeg) + "\n")},
                    true, 0, {"prlimit", "--nofile=128:128"});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  auto ref = std::make_unique<PacketViewer>(srv.port(), srv.url("/ref"));
  ASSERT_TRUE(ref->ok() && ref->flowing()) << ref->state() << "\n" << srv.log_tail();
  const Holdings baseline = holdings_of(srv.pid());

  std::vector<int> clients;
  for (int i = 0; i < 200; ++i)
    clients.push_back(idle_connection(srv.port()));
  // The server takes connections until it has no descriptor left.
  ASSERT_TRUE(wait_until([&] { return holdings_of(srv.pid()).fds >= 120; }, 20s))
      << holdings_of(srv.pid()).fds << " fds\n" << srv.log_tail();
  g_usleep(200000);
  const double cpu0 = process_cpu_seconds(srv.pid());
  const auto t0 = std::chrono::steady_clock::now();
  // 5 s of exhaustion, during which the playing viewer keeps its packets.
  EXPECT_TRUE(ref->flowing(40, 5s)) << ref->state() << "\n" << srv.log_tail();
  wait_until([&] { return std::chrono::steady_clock::now() - t0 >= 5s; }, 6s);
  const double cpu = process_cpu_seconds(srv.pid()) - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const size_t lines = count_occurrences(srv.log(), "too many open files");
  std::printf("exhausted: %d fds, server CPU %.2f s in %.1f s, %zu log lines about it\n",
              holdings_of(srv.pid()).fds, cpu, wall, lines);
  EXPECT_LT(cpu, 0.25 * wall) << "the server spins on accept";
  EXPECT_GE(lines, 1u) << srv.log_tail();
  EXPECT_LE(lines, 2u) << srv.log_tail();

  for (int fd : clients)
    if (fd >= 0)
      close(fd);
  // The server closes its ends and takes new clients again.
  Holdings now;
  EXPECT_TRUE(wait_until(
      [&] {
        now = holdings_of(srv.pid());
        return now.fds <= baseline.fds + 2;
      },
      20s))
      << baseline.fds << " -> " << now.fds << " fds\n" << srv.log_tail();
  {
    PacketViewer fresh(srv.port(), srv.url("/ref"));
    EXPECT_TRUE(fresh.ok() && fresh.flowing(20)) << fresh.state() << "\n" << srv.log_tail();
  }
  EXPECT_TRUE(ref->flowing()) << ref->state() << "\n" << srv.log_tail();
  EXPECT_TRUE(srv.alive());
  ref.reset();
  EXPECT_EQ(srv.stop(), 0) << srv.log_tail();
}

}  // namespace
}  // namespace gms::test
