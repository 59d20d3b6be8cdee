#include "coordinator/http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/text.h"
#include "coordinator/api/problem.h"

namespace meadow::coordinator::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

constexpr const char* kLog = "http";
// The first read of a request is small on purpose: an idle connection holds little.
constexpr std::size_t kFirstReadBytes = 1024;
// Read buffers that grew larger than this are freed between requests.
constexpr std::size_t kKeepBufferBytes = std::size_t{8} * 1024;
// After an error answer, unread input is drained this long (and this much) before closing.
constexpr std::int64_t kLingerMs = 1000;
constexpr std::size_t kLingerBytes = std::size_t{1024} * 1024;
constexpr std::int64_t kTlsShutdownMs = 2000;
// A parked peer with unread bytes is checked for FIN this often.
constexpr std::int64_t kRecheckMs = 250;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Response problem_response(ErrorKind kind, std::string code, std::string message) {
  return api::problem(make_error(kind, std::move(code), std::move(message)));
}

Response internal_error() {
  return problem_response(ErrorKind::internal, "internal",
                          "the server failed while handling this request; try again later");
}



int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `target` into the percent-decoded path and the raw query. Returns an empty
// string on success, else what is wrong with the target.
std::string split_target(std::string_view target, std::string& path, std::string& query) {
  std::size_t q = target.find('?');
  std::string_view raw = target.substr(0, q);
  query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  if (raw.empty() || raw.front() != '/') return "the request target must be a path starting with '/'";
  path.clear();
  path.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      path.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size() || hex_digit(raw[i + 1]) < 0 || hex_digit(raw[i + 2]) < 0) {
      return "the request path has a '%' that is not followed by two hex digits";
    }
    path.push_back(static_cast<char>(hex_digit(raw[i + 1]) * 16 + hex_digit(raw[i + 2])));
    i += 2;
  }
  if (path.find('\0') != std::string::npos) return "the request path decodes to a NUL byte";
  return {};
}

// A response header the handler set is sent only when it cannot split the response.
bool safe_header(const Header& h) {
  constexpr std::string_view kBadValue("\r\n\0", 3);
  constexpr std::string_view kBadName("\r\n\0 :\t", 6);
  return !h.name.empty() && h.name.find_first_of(kBadName) == std::string::npos &&
         h.value.find_first_of(kBadValue) == std::string::npos;
}

// Framing belongs to the transport; a handler's value for these is ignored.
bool framing_header(std::string_view name) {
  return name == "content-length" || name == "transfer-encoding" || name == "connection";
}

// Malformed input (answered 400), as opposed to a connection that closed or timed out.
bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

class SessionBase;
// `raw` stays valid while the entry is listed: a session's destructor removes its entry
// (under waiters_mu) before the session is gone.
struct Waiter {
  SessionBase* raw;
  std::weak_ptr<SessionBase> weak;
};
using WaiterList = std::list<Waiter>;

// What the server core needs from a session, whatever its stream type. The public
// functions may be called from any thread; they post to the session's strand.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void wake(bool final) = 0;  // a claimed waiter: call resume(final) and go on
  virtual void stop() = 0;            // the server is stopping: close if idle
  virtual void force_close() = 0;     // the grace period is over
  // The park of a claimed waiter (stable until wake() is called on it).
  virtual std::shared_ptr<Park> parked() const = 0;

  // Where this session sits in ServerCore::waiters while parked. Guarded by waiters_mu.
  std::optional<WaiterList::iterator> waiter_pos;
};

struct Periodic;

// Everything sessions share. Lives as long as the Server, and outlives every session:
// the io_context is declared after the state sessions touch, so it is destroyed first
// (destroying any session still referenced by a pending handler).
struct ServerCore {
  ServerCore(ServerOptions opts, Handler h, Logger& logger, Observer obs)
      : options(std::move(opts)), handler(std::move(h)), log(logger), observer(std::move(obs)) {}

  ServerOptions options;
  Handler handler;
  Logger& log;
  Observer observer;

  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> parked{0};
  std::atomic<bool> stopping{false};    // shutdown() was called
  std::atomic<bool> destroying{false};  // ~Server is running: post nothing more

  // waiters_mu guards `waiters` (parked sessions, oldest first), every session's
  // waiter_pos, and waiters_closed (set once shutdown has drained the list, so that no
  // session can park after it). Removing a session's entry under this mutex "claims" it:
  // only the claimer may end the park, so a timer, a notify, shutdown and a client close
  // never resume the same park twice.
  std::mutex waiters_mu;
  WaiterList waiters;
  bool waiters_closed = false;

  // sessions_mu guards `sessions`: every live session, so shutdown can reach them.
  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  // periodic_mu guards `periodics`: the every() timers, cancelled at shutdown.
  std::mutex periodic_mu;
  std::vector<std::shared_ptr<Periodic>> periodics;

  std::optional<ssl::context> tls;
  std::uint16_t bound_port = 0;

  net::io_context ioc;
  // The acceptor, its retry timer, the grace timer and the shutdown steps run here.
  net::strand<net::io_context::executor_type> strand{net::make_strand(ioc)};
  tcp::acceptor acceptor{strand};
  net::steady_timer accept_retry{strand};
  net::steady_timer grace_timer{strand};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{ioc.get_executor()};
  std::atomic<bool> shutdown_requested{false};
  bool shutdown_begun = false;  // strand only
  bool finished = false;        // strand only

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void begin_shutdown();
  void maybe_finish();
  void finish();
  std::vector<std::shared_ptr<SessionBase>> live_sessions();

  void add_session(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(sessions_mu);
    sessions.emplace(s.get(), s);
    connections.fetch_add(1);
  }
  void remove_session(SessionBase* s) {
    {
      std::lock_guard lock(sessions_mu);
      sessions.erase(s);
    }
    if (connections.fetch_sub(1) == 1 && stopping.load() && !destroying.load()) {
      net::post(strand, [this] { maybe_finish(); });
    }
  }

  // False when the server is shutting down: the caller answers at once instead.
  bool enqueue_waiter(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(waiters_mu);
    if (waiters_closed) return false;
    waiters.push_back(Waiter{s.get(), s});
    s->waiter_pos = std::prev(waiters.end());
    parked.fetch_add(1);
    return true;
  }
  bool claim_waiter(SessionBase& s) {
    std::lock_guard lock(waiters_mu);
    if (!s.waiter_pos) return false;
    waiters.erase(*s.waiter_pos);
    s.waiter_pos.reset();
    parked.fetch_sub(1);
    return true;
  }
  // Claims up to `n` of the oldest waiters (all when `close` is set, which also refuses
  // later parks).
  std::vector<std::shared_ptr<SessionBase>> claim_oldest(std::size_t n, bool close) {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard lock(waiters_mu);
    if (close) waiters_closed = true;
    while (!waiters.empty() && (close || out.size() < n)) {
      Waiter w = waiters.front();
      waiters.pop_front();
      w.raw->waiter_pos.reset();
      parked.fetch_sub(1);
      if (auto s = w.weak.lock()) out.push_back(std::move(s));  // else it is being destroyed
    }
    return out;
  }
};

struct Periodic : std::enable_shared_from_this<Periodic> {
  Periodic(ServerCore& c, Millis p, std::function<void()> f)
      : core(c), period(p), fn(std::move(f)), timer(net::make_strand(c.ioc)) {}

  ServerCore& core;
  Millis period;
  std::function<void()> fn;
  net::steady_timer timer;

  void arm() {
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this()](beast::error_code ec) { self->on_tick(ec); });
  }
  void on_tick(beast::error_code ec) {
    if (ec || core.stopping.load()) return;
    try {
      fn();
    } catch (const std::exception& e) {
      core.log.error(kLog, std::string("periodic task threw: ") + e.what());
    } catch (...) {
      core.log.error(kLog, "periodic task threw a non-standard exception");
    }
    arm();
  }
};

// One connection. Every member is touched only on the session's strand (the stream's
// executor), except SessionBase::waiter_pos, which ServerCore guards.
//
// Memory: between requests and while parked a session holds its socket, two timers, the
// parsed request line and headers (the body is released once the handler has run) and the
// park closure. Read buffers larger than kKeepBufferBytes are freed after each request.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  enum class State { handshake, idle, reading, handling, parked, writing, closing, closed };

 public:
  template <class... StreamArgs>
  Session(ServerCore& core, std::string remote, StreamArgs&&... stream_args)
      : core_(core),
        stream_(std::forward<StreamArgs>(stream_args)...),
        park_timer_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() override {
    try {
      core_.claim_waiter(*this);
      core_.remove_session(this);
    } catch (...) {  // only a failing mutex could throw here; nothing to do about it
    }
  }

  void begin() {
    core_.add_session(this->shared_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->on_start(); });
  }

  void wake(bool final) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), final] { self->on_wake(final); });
  }
  void stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->on_stop(); });
  }
  void force_close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_now(); });
  }
  std::shared_ptr<Park> parked() const override { return park_; }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& opts() const { return core_.options; }

  void on_start() {
    if constexpr (kTls) {
      state_ = State::handshake;
      lowest().expires_after(Millis(opts().header_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->fail(ec, "tls handshake");
        self->await_request();
      });
    } else {
      await_request();
    }
  }

  // Waits for the first bytes of the next request: the idle timeout applies on a kept-alive
  // connection, the header timeout on a new one. The header timeout restarts with the
  // first byte.
  void await_request() {
    state_ = State::idle;
    if (core_.stopping.load()) return close_now();
    if (buffer_.size() > 0) return read_header();
    std::int64_t wait = first_request_ ? opts().header_timeout_ms : opts().idle_timeout_ms;
    lowest().expires_after(Millis(wait));
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->fail(ec, "await request");
                              self->read_header();
                            });
  }

  void read_header() {
    state_ = State::reading;
    first_request_ = false;
    started_ = SteadyClock::now();
    req_ = Request{};
    req_.remote_address = remote_;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(opts().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(boost::none);  // decided per route once the header is in
    lowest().expires_after(Millis(opts().header_timeout_ms));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec, "read header");
    const auto& h = parser_->get();
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    std::string bad = split_target(req_.target, req_.path, req_.query);
    if (!bad.empty()) return respond_error(problem_response(ErrorKind::invalid, "bad-target", bad));

    std::size_t limit = opts().max_body_bytes;
    if (opts().body_limit) {
      try {
        limit = opts().body_limit(req_.method, req_.path);
      } catch (...) {
        core_.log.error(kLog, "body_limit threw for " + req_.method + " " + req_.path);
        return respond_error(internal_error());
      }
    }
    if (parser_->content_length() && *parser_->content_length() > limit) return body_too_large(limit);
    if (parser_->is_done()) return handle();
    body_limit_ = limit;
    parser_->body_limit(limit);
    if (beast::iequals(h[bhttp::field::expect], "100-continue")) {
      lowest().expires_after(Millis(opts().write_timeout_ms));
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->fail(wec, "write 100-continue");
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    lowest().expires_after(Millis(opts().body_timeout_ms));
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec, "read body");
      self->handle();
    });
  }

  void body_too_large(std::size_t limit) {
    respond_error(problem_response(ErrorKind::too_large, "body-too-large",
                                   "the request body is larger than " + std::to_string(limit) + " bytes allowed here"));
  }

  void on_read_error(beast::error_code ec, const char* what) {
    if (ec == bhttp::error::body_limit) return body_too_large(body_limit_);
    if (ec == bhttp::error::header_limit) {
      return respond_error(problem_response(ErrorKind::invalid, "header-too-large",
                                            "the request header is larger than " +
                                                std::to_string(opts().max_header_bytes) +
                                                " bytes; send fewer or shorter header fields"));
    }
    if (is_http_parse_error(ec)) {
      return respond_error(
          problem_response(ErrorKind::invalid, "bad-request", "malformed HTTP/1.1 request: " + ec.message()));
    }
    fail(ec, what);
  }

  void handle() {
    state_ = State::handling;
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    if (buffer_.size() == 0 && buffer_.capacity() > kKeepBufferBytes) buffer_.shrink_to_fit();
    req_.headers.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& field : msg) {
      req_.headers.push_back(Header{text::ascii_lower(field.name_string()), std::string(field.value())});
    }
    req_.body = std::move(msg.body());

    Response r;
    try {
      r = core_.handler(req_);
    } catch (const std::exception& e) {
      core_.log.error(kLog, "handler threw on " + req_.method + " " + req_.path + ": " + e.what());
      r = internal_error();
    } catch (...) {
      core_.log.error(kLog, "handler threw a non-standard exception on " + req_.method + " " + req_.path);
      r = internal_error();
    }
    // The observer sees the request without its body; a park closure keeps what it needs.
    std::string().swap(req_.body);
    if (r.park) return park(std::move(r.park), true);
    write_response(std::move(r));
  }

  // --- long-poll parking -------------------------------------------------------------

  // The deadline set by the first park stays: a re-park may shorten it, never extend it.
  void park(std::shared_ptr<Park> p, bool first) {
    if (!p->resume) {
      core_.log.error(kLog, "a handler parked " + req_.path + " without a resume function");
      return write_response(internal_error());
    }
    auto now = SteadyClock::now();
    auto until = now + Millis(std::max<std::int64_t>(0, p->wait_ms));
    park_deadline_ = first ? until : std::min(park_deadline_, until);
    park_ = std::move(p);
    state_ = State::parked;
    const std::uint64_t seq = ++park_seq_;
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    if (!core_.enqueue_waiter(this->shared_from_this())) return resume(true);
    park_timer_.expires_at(park_deadline_);
    park_timer_.async_wait(
        [self = this->shared_from_this(), seq](beast::error_code ec) { self->on_park_timer(seq, ec); });
    watch_for_close(seq);
  }

  // Notices a client that goes away while parked, without consuming input: when the
  // socket turns readable, a one-byte MSG_PEEK tells end-of-stream (or a reset) from a
  // stale readiness event and from real bytes. Real bytes (a pipelined request, a TLS
  // close_notify) stay unread, so the socket stays readable and waiting on it again would
  // spin; the peer is then checked every kRecheckMs and counts as gone once it has sent
  // FIN too (Linux: CLOSE_WAIT; elsewhere such a park ends at its timer).
  enum class Peer { open, closed, has_data };

  void watch_for_close(std::uint64_t seq) {
    lowest().socket().async_wait(tcp::socket::wait_read, [self = this->shared_from_this(), seq](beast::error_code ec) {
      self->on_readable_while_parked(seq, ec);
    });
  }

  void on_readable_while_parked(std::uint64_t seq, beast::error_code ec) {
    if (ec == net::error::operation_aborted || seq != park_seq_ || state_ != State::parked) return;
    const Peer peer = ec ? Peer::closed : peek_peer();
    if (peer == Peer::open) return watch_for_close(seq);
    if (peer == Peer::has_data) return recheck_later(seq);
    if (!core_.claim_waiter(*this)) return;  // already woken; the write will fail instead
    park_.reset();
    fail(ec ? ec : beast::error_code(net::error::eof), "client left a parked request");
  }

  void recheck_later(std::uint64_t seq) {
    if (!recheck_timer_) recheck_timer_.emplace(stream_.get_executor());
    recheck_timer_->expires_after(Millis(kRecheckMs));
    recheck_timer_->async_wait([self = this->shared_from_this(), seq](beast::error_code ec) {
      if (!ec) self->on_readable_while_parked(seq, ec);
    });
  }

  Peer peek_peer() {
    const int fd = lowest().socket().native_handle();
    char byte = 0;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return Peer::closed;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Peer::open : Peer::closed;
#ifdef __linux__
    tcp_info info{};
    socklen_t len = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_CLOSE_WAIT) {
      return Peer::closed;
    }
#endif
    return Peer::has_data;
  }

  void on_park_timer(std::uint64_t seq, beast::error_code ec) {
    if (ec || seq != park_seq_ || state_ != State::parked) return;
    if (!core_.claim_waiter(*this)) return;  // a notify or shutdown claimed it; wake() follows
    stop_watching();
    resume(true);
  }

  void on_wake(bool final) {
    if (state_ != State::parked) return;
    park_timer_.cancel();
    stop_watching();
    resume(final);
  }

  void stop_watching() {
    beast::error_code ignored;
    lowest().socket().cancel(ignored);  // only the close watch is pending while parked
    if (recheck_timer_) recheck_timer_->cancel();
  }

  void resume(bool final) {
    std::shared_ptr<Park> p = std::move(park_);
    Response r;
    try {
      r = p->resume(final);
    } catch (const std::exception& e) {
      core_.log.error(kLog, "long-poll resume threw on " + req_.path + ": " + e.what());
      r = internal_error();
    } catch (...) {
      core_.log.error(kLog, "long-poll resume threw a non-standard exception on " + req_.path);
      r = internal_error();
    }
    p.reset();
    if (r.park) {
      if (!final) return park(std::move(r.park), false);
      core_.log.error(kLog, "long-poll on " + req_.path + " parked again after its final resume");
      r = internal_error();
    }
    write_response(std::move(r));
  }

  // --- writing -----------------------------------------------------------------------

  void respond_error(Response r) {
    close_after_ = true;
    linger_ = true;
    parser_.reset();
    write_response(std::move(r));
  }

  void write_response(Response r) {
    state_ = State::writing;
    if (r.status < 200 || r.status > 599) {
      core_.log.error(kLog, "handler answered " + req_.path + " with status " + std::to_string(r.status));
      r = internal_error();
    }
    keep_alive_ = keep_alive_ && !close_after_ && !core_.stopping.load();
    auto& res = out_.emplace();
    res.version(version_);
    res.result(static_cast<unsigned>(r.status));
    res.set(bhttp::field::server, "meadow-coordinator");
    const bool bodiless = r.status == 204 || r.status == 304;
    if (!bodiless && !r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    bool has_protocol = false;
    for (const Header& h : r.headers) {
      if (!safe_header(h)) {
        core_.log.warn(kLog, "dropped an unsafe response header on " + req_.path);
        continue;
      }
      if (framing_header(h.name)) continue;
      if (h.name == api::kProtocolHeader) has_protocol = true;
      if (h.name == "content-type" || h.name == "server") {
        res.set(h.name, h.value);
      } else {
        res.insert(h.name, h.value);
      }
    }
    if (!has_protocol) res.set(api::kProtocolHeader, api::kProtocolVersion);
    if (bodiless) {
      r.body.clear();
      r.file.reset();
    }
    res.keep_alive(keep_alive_);
    if (r.file) {
      // The header alone now; the file follows in chunks (none for HEAD).
      res.content_length(r.file->length);
      if (req_.method == "HEAD") r.file.reset();
      resp_ = std::move(r);
      lowest().expires_after(Millis(opts().write_timeout_ms));
      header_sr_.emplace(*out_);
      bhttp::async_write_header(stream_, *header_sr_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        self->header_sr_.reset();
        if (ec) return self->fail(ec, "write");
        self->send_file_chunk();
      });
      return;
    }
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (req_.method == "HEAD") {
      const std::size_t n = res.body().size();
      res.body().clear();
      res.content_length(n);
    }
    resp_ = std::move(r);
    lowest().expires_after(Millis(opts().write_timeout_ms));
    bhttp::async_write(stream_, *out_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  // Sends the response's file in chunks read with pread, each write under the write timeout.
  void send_file_chunk() {
    FileBody* f = resp_.file.get();
    if (!f || f->length == 0) {
      file_buffer_.clear();
      file_buffer_.shrink_to_fit();
      return on_write({});
    }
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(f->length, kChunk));
    if (file_buffer_.size() < want) file_buffer_.resize(want);
    ssize_t n;
    do {
      n = ::pread(f->fd, file_buffer_.data(), want, static_cast<off_t>(f->offset));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      // The file shrank or failed under us: the header promised more, so the connection ends.
      core_.log.error(kLog, "reading a response file for " + req_.path + " failed");
      return close_now();
    }
    f->offset += static_cast<std::uint64_t>(n);
    f->length -= static_cast<std::uint64_t>(n);
    lowest().expires_after(Millis(opts().write_timeout_ms));
    net::async_write(stream_, net::buffer(file_buffer_.data(), static_cast<std::size_t>(n)),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail(ec, "write");
                       self->send_file_chunk();
                     });
  }

  void on_write(beast::error_code ec) {
    if (ec) return fail(ec, "write");
    resp_.body = std::move(out_->body());
    resp_.file.reset();
    out_.reset();
    if (core_.observer) {
      double seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
      try {
        core_.observer(req_, resp_, seconds);
      } catch (...) {
        core_.log.error(kLog, "the response observer threw");
      }
    }
    resp_ = Response{};
    if (!keep_alive_) return close_gracefully();
    req_ = Request{};
    await_request();
  }

  // --- closing -----------------------------------------------------------------------

  void close_gracefully() {
    state_ = State::closing;
    if constexpr (kTls) {
      lowest().expires_after(Millis(std::min(kTlsShutdownMs, opts().write_timeout_ms)));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!linger_) return close_now();
      // After an error answer the client may still be sending: read and drop its bytes for
      // a moment so the kernel does not reset the connection before the answer is read.
      lowest().expires_after(Millis(std::min(kLingerMs, opts().body_timeout_ms)));
      drain();
    }
  }

  void drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes || self->state_ != State::closing) {
                                return self->close_now();
                              }
                              self->drain();
                            });
  }

  void on_stop() {
    if (state_ == State::idle || state_ == State::handshake) close_now();
  }

  void close_now() {
    if (state_ == State::closed) return;
    if (state_ == State::parked) core_.claim_waiter(*this);
    state_ = State::closed;
    park_.reset();
    park_timer_.cancel();
    if (recheck_timer_) recheck_timer_->cancel();
    lowest().close();
  }

  // The one place a connection ends on an error: log at debug level and close.
  void fail(beast::error_code ec, const char* what) {
    if (state_ != State::closed && core_.log.enabled(LogLevel::debug)) {
      core_.log.debug(kLog, remote_ + ": " + what + ": " + ec.message());
    }
    close_now();
  }

  ServerCore& core_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> out_;
  std::optional<bhttp::response_serializer<bhttp::string_body>> header_sr_;  // file responses
  std::vector<char> file_buffer_;
  Request req_;
  Response resp_;  // the response being written, kept for the observer
  std::shared_ptr<Park> park_;
  net::steady_timer park_timer_;
  std::optional<net::steady_timer> recheck_timer_;  // made only when a parked peer sends bytes
  std::string remote_;
  SteadyClock::time_point started_;
  SteadyClock::time_point park_deadline_;
  std::uint64_t park_seq_ = 0;
  std::size_t body_limit_ = 0;
  std::size_t drained_ = 0;
  unsigned version_ = 11;
  State state_ = State::idle;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool close_after_ = false;
  bool linger_ = false;
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

void ServerCore::do_accept() {
  acceptor.async_accept(net::make_strand(ioc),
                        [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void ServerCore::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors or memory: wait a little rather than spin.
    log.warn(kLog, "accept failed: " + ec.message());
    accept_retry.expires_after(Millis(50));
    accept_retry.async_wait([this](beast::error_code wec) {
      if (!wec && !stopping.load()) do_accept();
    });
    return;
  }
  if (connections.load() >= options.max_connections) {
    log.debug(kLog, "refused a connection: max_connections reached");
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto endpoint = socket.remote_endpoint(ignored);
  std::string remote = ignored ? std::string() : endpoint.address().to_string();
  if (tls) {
    std::make_shared<TlsSession>(*this, std::move(remote), std::move(socket), *tls)->begin();
  } else {
    std::make_shared<PlainSession>(*this, std::move(remote), std::move(socket))->begin();
  }
  do_accept();
}

std::vector<std::shared_ptr<SessionBase>> ServerCore::live_sessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(sessions_mu);
  out.reserve(sessions.size());
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

// Runs on `strand`. Order: no new connections; parked long-polls answered; periodic
// tasks stopped; idle connections closed; busy ones finish (their responses carry
// "Connection: close") until the grace timer closes whatever is left.
void ServerCore::begin_shutdown() {
  shutdown_begun = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto& s : claim_oldest(0, true)) s->wake(true);
  {
    std::lock_guard lock(periodic_mu);
    for (auto& p : periodics) {
      net::post(p->timer.get_executor(), [p] { p->timer.cancel(); });
    }
    periodics.clear();
  }
  for (auto& s : live_sessions()) s->stop();
  grace_timer.expires_after(Millis(std::max<std::int64_t>(0, options.shutdown_grace_ms)));
  grace_timer.async_wait([this](beast::error_code ec) {
    if (ec || finished) return;
    if (!live_sessions().empty()) log.warn(kLog, "shutdown grace period over; closing connections");
    for (auto& s : live_sessions()) s->force_close();
    finish();
  });
  maybe_finish();
}

void ServerCore::maybe_finish() {
  if (shutdown_begun && !finished && connections.load() == 0) finish();
}

void ServerCore::finish() {
  finished = true;
  grace_timer.cancel();
  work.reset();
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;

  Status setup_tls() {
    const std::string& cert = options.tls_cert_file;
    const std::string& key = options.tls_key_file;
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(cert, fs_ec)) {
      return make_error(ErrorKind::io, "tls-cert",
                        "TLS certificate file '" + cert + "' does not exist or is not a file");
    }
    if (!std::filesystem::is_regular_file(key, fs_ec)) {
      return make_error(ErrorKind::io, "tls-key", "TLS private key file '" + key + "' does not exist or is not a file");
    }
    auto& ctx = tls.emplace(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    // Idle TLS connections (parked long-polls) then hold no record buffers.
    SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    beast::error_code ec;
    ctx.use_certificate_chain_file(cert, ec);
    if (ec) {
      return make_error(ErrorKind::io, "tls-cert",
                        "cannot load the TLS certificate chain from '" + cert + "': " + ec.message());
    }
    ctx.use_private_key_file(key, ssl::context::pem, ec);
    if (ec) {
      return make_error(
          ErrorKind::io, "tls-key",
          "cannot load the TLS private key from '" + key + "' (or it does not match '" + cert + "'): " + ec.message());
    }
    return ok_status();
  }

  Status listen() {
    beast::error_code ec;
    auto address = net::ip::make_address(options.bind_address, ec);
    if (ec) {
      return make_error(ErrorKind::invalid, "bad-bind-address",
                        "bind_address '" + options.bind_address + "' is not an IPv4 or IPv6 address literal");
    }
    tcp::endpoint endpoint(address, options.port);
    std::string where = options.bind_address + ":" + std::to_string(options.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error(ErrorKind::io, "listen-failed", "cannot listen on " + where + ": " + ec.message());
    }
    bound_port = acceptor.local_endpoint(ec).port();
    return ok_status();
  }

  void run_thread() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log.error(kLog, std::string("io thread caught: ") + e.what());
      } catch (...) {
        log.error(kLog, "io thread caught a non-standard exception");
      }
    }
  }
};

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Handler handler, Logger& log, Observer observer) {
  if (!handler) return make_error(ErrorKind::invalid, "no-handler", "the HTTP server needs a handler");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return make_error(ErrorKind::invalid, "tls-config",
                      "set both tls_cert_file and tls_key_file to serve TLS, or neither");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler), log, std::move(observer));
  if (!impl->options.tls_cert_file.empty()) MEADOW_TRY(impl->setup_tls());
  MEADOW_TRY(impl->listen());
  impl->do_accept();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// The owner calls shutdown() and lets run() return before destroying the server. Whatever
// is still pending then is destroyed with the io_context without running.
Server::~Server() {
  if (!impl_) return;
  impl_->stopping.store(true);
  impl_->destroying.store(true);
  // Timers must go before the io_context; a pending wait still holds its Periodic and is
  // destroyed with the io_context.
  std::lock_guard lock(impl_->periodic_mu);
  impl_->periodics.clear();
}

std::uint16_t Server::port() const noexcept { return impl_->bound_port; }

bool Server::tls() const noexcept { return impl_->tls.has_value(); }

void Server::run() {
  const int extra = std::max(1, impl_->options.threads) - 1;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(extra));
  for (int i = 0; i < extra; ++i) threads.emplace_back([this] { impl_->run_thread(); });
  impl_->run_thread();
  for (auto& t : threads) t.join();
}

void Server::shutdown() {
  if (impl_->shutdown_requested.exchange(true)) return;
  impl_->stopping.store(true);
  net::post(impl_->strand, [impl = impl_.get()] { impl->begin_shutdown(); });
}

void Server::notify_waiters(std::size_t n) {
  if (n == 0) return;
  auto woken = impl_->claim_oldest(n, false);
  // Claimed waiters cannot resume until wake(), so their parks can be prepared together.
  std::vector<std::pair<ParkBatch*, std::vector<Park*>>> batches;
  std::vector<std::shared_ptr<Park>> keep;
  for (auto& s : woken) {
    auto park = s->parked();
    if (!park || !park->batch) continue;
    auto it = std::find_if(batches.begin(), batches.end(), [&](auto& b) { return b.first == park->batch.get(); });
    if (it == batches.end()) it = batches.insert(batches.end(), {park->batch.get(), {}});
    it->second.push_back(park.get());
    keep.push_back(std::move(park));
  }
  for (auto& [batch, parks] : batches) {
    try {
      batch->prepare(parks);
    } catch (const std::exception& e) {
      impl_->log.error(kLog, std::string("preparing woken long-polls failed: ") + e.what());
    }
  }
  for (auto& s : woken) s->wake(false);
}

void Server::post(std::function<void()> fn) {
  if (!fn || impl_->destroying.load()) return;
  net::post(impl_->ioc, std::move(fn));
}

void Server::every(std::int64_t period_ms, std::function<void()> fn) {
  if (!fn) return;
  auto p = std::make_shared<Periodic>(*impl_, Millis(std::max<std::int64_t>(1, period_ms)), std::move(fn));
  std::lock_guard lock(impl_->periodic_mu);
  if (impl_->stopping.load()) return;
  impl_->periodics.push_back(p);
  net::post(p->timer.get_executor(), [p] { p->arm(); });
}

std::size_t Server::open_connections() const noexcept { return impl_->connections.load(); }

std::size_t Server::parked_requests() const noexcept { return impl_->parked.load(); }

}  // namespace meadow::coordinator::http
