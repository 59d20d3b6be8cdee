// The engine's one network thread: libcurl's multi interface, timers and a queue of posted
// work, driven by run_once(). Page fetches pass an AddressGuard policy that is enforced in
// CURLOPT_OPENSOCKETFUNCTION, on the resolved address of every new connection; calls to
// the coordinator (a trusted, configured address) pass none.
//
// Thread affinity: everything but post() and wake() runs on the thread that calls
// run_once(); callbacks run there too, one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/core/address_guard.h"
#include "common/result.h"

namespace meadow::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;              // sent as given
  std::string body;             // sent when not empty (or when method is POST)
  std::size_t max_body_bytes = 8u << 20;  // bytes kept after content decoding; more is cut
  std::int64_t timeout_ms = 30'000;       // whole transfer
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t low_speed_bytes = 0;       // abort when slower than this many bytes/s ...
  std::int64_t low_speed_ms = 0;          // ... for this long (both 0: off)
  std::int64_t max_recv_bytes_per_s = 0;  // 0: unlimited
  std::optional<GuardPolicy> guard;       // set for anything a task asks for; without one the
                                          // connection is closed after use, never pooled
  bool decode_content = false;            // send Accept-Encoding, deliver decoded bytes
  bool capture = false;                   // keep the request head as sent and the response's
                                          // status line and header fields as received
  std::string user_agent;
  std::vector<std::string> resolve;       // CURLOPT_RESOLVE entries ("host:port:addr")
  // Called once when the response headers are complete; false stops the transfer there
  // (the response is then delivered with `stopped` set). Lets a fetch refuse a content
  // type before its body costs the contributor's bandwidth.
  std::function<bool(const HttpResponse&)> on_headers;
};

struct HttpResponse {
  int status = 0;                 // 0 when no response arrived
  Headers headers;                // of the final response; names lower-cased
  std::string body;
  bool truncated = false;         // the body passed max_body_bytes and was cut there
  bool stopped = false;           // on_headers refused it
  std::int64_t wire_bytes = 0;    // request + response bytes as they crossed the network
  std::string primary_ip;
  // With HttpRequest::capture: the request line and header fields exactly as sent (CRLF line
  // ends, the blank line included), the status line as received ("HTTP/1.1 200 OK") and the
  // header fields with their names as received, in order. Empty otherwise.
  std::string request_head;
  std::string status_line;
  Headers raw_headers;
  std::optional<Error> error;     // transport failure (codes: timeout (also for the low-speed
                                  // limit), address-forbidden, port-forbidden, dns, connect, tls,
                                  // bad-encoding, scheme-forbidden, transport)

  // The first value of a header (name lower-case), or empty.
  std::string header(std::string_view name) const;
};

class HttpLoop {
 public:
  using Callback = std::function<void(HttpResponse)>;
  using Task = std::function<void()>;

  HttpLoop();
  ~HttpLoop();
  HttpLoop(const HttpLoop&) = delete;
  HttpLoop& operator=(const HttpLoop&) = delete;

  // Starts a transfer; `done` runs on the loop thread when it ends, whatever the outcome.
  // Returns an id for cancel().
  std::uint64_t start(HttpRequest req, Callback done);
  // Drops a transfer without calling its callback.
  void cancel(std::uint64_t id);
  // Runs `fn` after `delay_ms` (steady time). Returns an id for cancel_timer().
  std::uint64_t after(std::int64_t delay_ms, Task fn);
  void cancel_timer(std::uint64_t id);

  // Loop thread: runs `fn` once at the end of the current run_once(), after the transfer
  // callbacks, timers and posted work that ran in it, in the order queued; one queued by such
  // a `fn` runs after it in the same turn (turn-end work that hands on to more turn-end work,
  // as results framed at a turn's end go to the outbox writer's flush). Called outside
  // run_once(), at the end of the next one, which then does not wait.
  void at_turn_end(Task fn);
  // Any thread: queue `fn` for the loop thread and wake it.
  void post(Task fn);
  // Any thread: make a blocked run_once() return early.
  void wake();

  // Waits up to `max_wait_ms` for network activity, a timer or posted work, then runs what
  // is ready.
  void run_once(std::int64_t max_wait_ms);
  std::size_t active_transfers() const;

  // Milliseconds of the steady clock the timers use.
  static std::int64_t steady_ms();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs a queue's flush once at the end of the turn in which it was armed, however often it is
// armed in that turn, and not at all once the owner (and this) is gone: for queues that handle
// what gathered in one turn together (ResultFramer, OutboxWriter). Loop thread only.
class TurnEndFlush {
 public:
  TurnEndFlush(HttpLoop& loop, HttpLoop::Task flush) : loop_(loop), flush_(std::move(flush)) {}
  TurnEndFlush(const TurnEndFlush&) = delete;
  TurnEndFlush& operator=(const TurnEndFlush&) = delete;

  void arm() {
    if (due_) return;
    due_ = true;
    loop_.at_turn_end([self = std::weak_ptr<TurnEndFlush*>(self_)] {
      if (auto alive = self.lock()) {
        (*alive)->due_ = false;
        (*alive)->flush_();
      }
    });
  }

 private:
  HttpLoop& loop_;
  HttpLoop::Task flush_;
  bool due_ = false;
  std::shared_ptr<TurnEndFlush*> self_ = std::make_shared<TurnEndFlush*>(this);  // the flush's way back here
};

}  // namespace meadow::client
