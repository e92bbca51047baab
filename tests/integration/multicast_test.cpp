// Multicast viewers of a published path, beside unicast UDP and
// TCP viewers of the same stream.
//
// A host cannot watch its own server's multicast: gst-rtsp-server binds the
// group's port on the sending side without SO_REUSEADDR and turns
// multicast loop-back off. So the server runs in one private network
// namespace and the viewers in another, joined by a veth pair that exists
// only for the test: no packet leaves the machine and the host's interfaces
// never see the group. Needs root (CI runs as root); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "child.h"
#include "process.h"

namespace gms::test {
namespace {

// Two namespaces "server" and "viewers" with 10.201.0.1 and 10.201.0.2 on a
// veth pair, multicast routed over it. Names carry the pid so that parallel
// runs never meet.
class NetnsPair {
 public:
  NetnsPair() {
    std::string id = std::to_string(getpid());
    srv_ = "gms-srv-" + id;
    cli_ = "gms-cli-" + id;
    std::string a = "gms" + id + "a", b = "gms" + id + "b";  // <= 15 bytes
    ok_ = sh("ip netns add " + srv_) && sh("ip netns add " + cli_) &&
          sh("ip link add " + a + " type veth peer name " + b) &&
          sh("ip link set " + a + " netns " + srv_) && sh("ip link set " + b + " netns " + cli_) &&
          sh("ip -n " + srv_ + " addr add 10.201.0.1/24 dev " + a) &&
          sh("ip -n " + cli_ + " addr add 10.201.0.2/24 dev " + b) &&
          sh("ip -n " + srv_ + " link set " + a + " up multicast on") &&
          sh("ip -n " + cli_ + " link set " + b + " up multicast on") &&
          sh("ip -n " + srv_ + " link set lo up") && sh("ip -n " + cli_ + " link set lo up") &&
          sh("ip -n " + srv_ + " route add 224.0.0.0/4 dev " + a) &&
          sh("ip -n " + cli_ + " route add 224.0.0.0/4 dev " + b);
  }
  ~NetnsPair() {
    // Deleting a namespace removes its end of the veth, and with it the pair.
    sh("ip netns pids " + srv_ + " | xargs -r kill -9");
    sh("ip netns pids " + cli_ + " | xargs -r kill -9");
    sh("ip netns del " + srv_);
    sh("ip netns del " + cli_);
  }
  bool ok() const { return ok_; }
  std::string why() const { return why_; }
  std::vector<std::string> in_server() const { return {"ip", "netns", "exec", srv_}; }
  std::vector<std::string> in_viewers() const { return {"ip", "netns", "exec", cli_}; }

 private:
  bool sh(const std::string& cmd) {
    RunResult r = run({"sh", "-c", cmd}, 10s);
    if (r.exit_status != 0 && why_.empty())
      why_ = cmd + ": " + r.err;
    return r.exit_status == 0;
  }
  std::string srv_, cli_, why_;
  bool ok_ = false;
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Buffers a gst-launch-1.0 viewer printed (fakesink silent=false).
size_t chains(const std::string& out) {
  size_t n = 0;
  for (size_t p = out.find("chain   ******* ("); p != std::string::npos;
       p = out.find("chain   ******* (", p + 1))
    ++n;
  return n;
}

TEST(Multicast, PublishedPathToMulticastUnicastAndTcpViewersAtOnce) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root for network namespaces";
  NetnsPair net;
  if (!net.ok())
    GTEST_SKIP() << "network namespaces are not available here: " << net.why();

  std::string conf = write_temp_file(
      "mc.conf",
      "[path /live/cam]\npublish=true\n"
      "multicast-address-range=224.3.0.1-224.3.0.9\nmulticast-port-range=5000-5099\n");
  ServerProcess srv({"-v", "-a", "0.0.0.0", conf}, true, 0, net.in_server());
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub(net.in_server() + ffmpeg_publisher(srv.url("/live/cam"), "tcp", 30));
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("publishing /live/cam"); }, 15s))
      << srv.log_tail() << pub.output();

  std::string url = "rtsp://10.201.0.1:" + std::to_string(srv.port()) + "/live/cam";
  auto viewer = [&](const std::string& protocol) {
    return net.in_viewers() +
           std::vector<std::string>{"timeout", "20", "gst-launch-1.0", "-v", "rtspsrc",
                                    "location=" + url, "protocols=" + protocol, "!",
                                    "rtph264depay", "!", "h264parse", "!", "fakesink",
                                    "silent=false", "num-buffers=90"};
  };
  // The path answers DESCRIBE once the publisher's first packets are in:
  // ffprobe over multicast, until it sees the stream.
  RunResult probe;
  ASSERT_TRUE(wait_until(
      [&] {
        probe = run(net.in_viewers() + std::vector<std::string>{"ffprobe", "-v", "error",
                                                                 "-rtsp_transport",
                                                                 "udp_multicast", "-show_entries",
                                                                 "stream=codec_name,width", "-of",
                                                                 "csv=p=0", url},
                    10s);
        return probe.exit_status == 0;
      },
      20s))
      << probe.err << srv.log_tail();
  EXPECT_EQ(probe.out, "h264,320\n") << probe.err;
  // Two multicast viewers share the group; a unicast UDP and a TCP viewer
  // watch at the same time.
  Child mc1(viewer("udp-mcast")), mc2(viewer("udp-mcast")), udp(viewer("udp")),
      tcp(viewer("tcp"));
  for (Child* c : {&mc1, &mc2, &udp, &tcp})
    c->wait(25000);
  // 90 frames = 3 s of picture each (fakesink stops there: exit 0).
  EXPECT_EQ(chains(mc1.output()), 90u) << mc1.output().substr(0, 3000) << srv.log_tail();
  EXPECT_EQ(chains(mc2.output()), 90u) << mc2.output().substr(0, 3000);
  EXPECT_EQ(chains(udp.output()), 90u) << udp.output().substr(0, 3000) << srv.log_tail();
  EXPECT_EQ(chains(tcp.output()), 90u) << tcp.output().substr(0, 3000);
}

}  // namespace
}  // namespace gms::test
