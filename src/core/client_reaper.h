// Holds closed RTSP clients until gst-rtsp-server's send threads are done
// with their TCP transports, then lets them be finalized (see
// tcp_transport_fence.h for why).
//
// A GmsRtspClient whose last reference goes while its fence still holds
// transports is revived in its dispose (a reference taken there, as GObject
// allows) and handed here. A thread of its own looks every kTickMs; a client
// whose fence is quiet loses that reference, on this thread, and is
// finalized. The thread starts when a client is handed over and ends when
// it holds none (a thread of the process only while closed viewers wait).
//
// Thread-safety: every method is safe from any thread. drain() is for the
// end of the process, before GStreamer is deinitialised.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <condition_variable>
#include <mutex>
#include <vector>

namespace gms {

class TcpTransportFence;

class ClientReaper {
 public:
  static constexpr unsigned kTickMs = 100;
  static ClientReaper& instance();

  // Takes over a reference to `client`, whose fence is `fence`.
  void hold(GstRTSPClient* client, TcpTransportFence* fence);
  // Waits up to `timeout_ms` for every held client to be let go; false if
  // some are still held (they are then never finalized).
  bool drain(unsigned timeout_ms);
  size_t held();

 private:
  struct Entry {
    GstRTSPClient* client;  // the reference hold() took over
    TcpTransportFence* fence;
    gint64 since_us;        // handed over at (monotonic)
    bool warned;            // held past kWarnAfterUs, and said so
  };
  // A closed viewer still sent to after this long means a session that
  // never ends: said once in the log.
  static constexpr gint64 kWarnAfterUs = 60 * G_USEC_PER_SEC;
  ClientReaper() = default;
  void run();
  std::vector<Entry> quiet_ones();
  void warn_held(GstRTSPClient* client);

  std::mutex lock_;  // protects entries_, running_; a leaf lock
  std::condition_variable changed_;  // entries were let go
  std::vector<Entry> entries_;
  bool running_ = false;  // a thread runs run()
};

}  // namespace gms
