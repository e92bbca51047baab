// BackendLink: what one back-end session's rtspsrc may still reach of the
// ProxySource that started it. rtspsrc's signal handlers and pad probes hold
// the link, not the source, because a torn-down pipeline is stopped on a
// thread of its own and may run on after the source moved on or was
// destroyed; once detached, nothing of it reaches the source and its packets
// are dropped.
//
// The link also knows the RTSP connections rtspsrc opened for the session, so
// that a back end that keeps rtspsrc reading (endless headers, a body that
// never ends) or answering (a redirect to itself) can be cut off: abort()
// shuts those sockets and rtspsrc's blocked reads return at once.
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace gms::proxy {

class ProxySource;

class BackendLink {
 public:
  explicit BackendLink(ProxySource* owner) : owner_(owner) {}
  ~BackendLink();
  BackendLink(const BackendLink&) = delete;
  BackendLink& operator=(const BackendLink&) = delete;

  // The owner, for as long as the returned object lives (the link's lock is
  // held: keep it short and never block in it); null once detached.
  class Use {
   public:
    explicit Use(BackendLink& l) : lock_(l.lock_), owner_(l.owner_) {}
    ProxySource* owner() const { return owner_; }

   private:
    std::unique_lock<std::mutex> lock_;
    ProxySource* owner_;
  };
  Use use() { return Use(*this); }

  // From now on use() gives null; waits for a callback using the owner.
  void detach();

  // rtspsrc's thread, before each request: the connections that thread has
  // opened since become this session's, and so will those it opens later
  // (rtspsrc reconnects on its own, e.g. once after the back end closed).
  static void claim_thread(const std::shared_ptr<BackendLink>& link);
  // Shuts every connection of the session, and any it opens from now on
  // (any thread, any number of times).
  void abort();
  // Stopped by its source (detached; its sockets may not be shut yet).
  bool given_up() const { return detached_; }

  // Opening requests (OPTIONS, DESCRIBE) sent before the session plays: a
  // back end that redirects to itself makes rtspsrc send them without end.
  unsigned count_opening_request() { return ++opening_requests_; }
  void set_established() { established_ = true; }
  bool established() const { return established_; }

  // rtspsrc's thread: the back end's certificate was refused for these
  // problems (its error message then says only "Failed to connect").
  void note_certificate_refused(GTlsCertificateFlags errors) { certificate_errors_ = errors; }
  GTlsCertificateFlags certificate_errors() const { return certificate_errors_; }

  // Installs the process-wide watch on GSocketClient connections (once).
  static void watch_connections();
  // A connection the session's thread opened (a GSocketConnection).
  void add_connection(GObject* conn);

 private:
  std::mutex lock_;  // held while a callback uses owner_; before sockets_lock_
  ProxySource* owner_;

  std::mutex sockets_lock_;  // protects sockets_ and aborted_
  std::vector<GWeakRef*> sockets_;  // GSocketConnections, weak: rtspsrc owns them
  bool aborted_ = false;

  std::atomic<bool> detached_{false};
  std::atomic<unsigned> opening_requests_{0};
  std::atomic<bool> established_{false};
  std::atomic<GTlsCertificateFlags> certificate_errors_{GTlsCertificateFlags(0)};
};

}  // namespace gms::proxy
