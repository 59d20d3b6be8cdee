#include "client/core/http_loop.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common/text.h"

namespace meadow::client {
namespace {

struct EasyDeleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using text::trim;

constexpr std::size_t kMaxCapturedLine = 1024;       // a status line kept
constexpr std::size_t kMaxCapturedHead = 64 * 1024;  // a request head kept

Error transport_error(CURLcode rc, const char* errbuf) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return {ErrorKind::unavailable, "timeout", detail};
    case CURLE_COULDNT_RESOLVE_HOST:
      return {ErrorKind::unavailable, "dns", detail};
    case CURLE_COULDNT_CONNECT:
      return {ErrorKind::unavailable, "connect", detail};
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {ErrorKind::forbidden, "scheme-forbidden", detail};
    case CURLE_BAD_CONTENT_ENCODING:
      return {ErrorKind::invalid, "bad-encoding", detail};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return {ErrorKind::unavailable, "tls", detail};
    default:
      return {ErrorKind::unavailable, "transport", detail};
  }
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

struct Transfer {
  std::uint64_t id = 0;
  EasyPtr easy;
  HttpRequest req;
  HttpResponse resp;
  HttpLoop::Callback done;
  SlistPtr header_list;
  SlistPtr resolve_list;
  std::optional<Error> guard_error;
  bool headers_complete = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

namespace {

curl_socket_t open_socket(void* clientp, curlsocktype /*purpose*/, curl_sockaddr* a) {
  auto* t = static_cast<Transfer*>(clientp);
  if (t->req.guard) {
    auto st = check_address(&a->addr, static_cast<socklen_t>(a->addrlen), *t->req.guard);
    if (!st.ok()) {
      t->guard_error = st.error();
      return CURL_SOCKET_BAD;
    }
  }
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

size_t on_header(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->resp.headers.clear();
    if (t->req.capture) {
      t->resp.status_line = std::string(trim(line).substr(0, kMaxCapturedLine));
      t->resp.raw_headers.clear();
    }
    const auto sp = line.find(' ');
    t->resp.status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  const std::string_view content = trim(line);
  if (content.empty()) {
    if (t->resp.status >= 200 && !t->headers_complete) {
      t->headers_complete = true;
      if (t->req.on_headers && !t->req.on_headers(t->resp)) {
        t->resp.stopped = true;
        return 0;
      }
    }
    return size * n;
  }
  const auto colon = content.find(':');
  if (colon != std::string_view::npos && t->resp.headers.size() < 200) {
    const std::string_view name = trim(content.substr(0, colon)), value = trim(content.substr(colon + 1));
    t->resp.headers.emplace_back(text::ascii_lower(name), std::string(value));
    if (t->req.capture) t->resp.raw_headers.emplace_back(std::string(name), std::string(value));
  }
  return size * n;
}

// With CURLOPT_VERBOSE, libcurl hands every request header block it sends to this callback
// (and prints nothing itself).
int on_debug(CURL* /*easy*/, curl_infotype type, char* data, size_t size, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  if (type == CURLINFO_HEADER_OUT && t->resp.request_head.size() < kMaxCapturedHead)
    t->resp.request_head.append(data, std::min(size, kMaxCapturedHead - t->resp.request_head.size()));
  return 0;
}

size_t on_body(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t len = size * n;
  std::string& body = t->resp.body;
  const size_t room = t->req.max_body_bytes > body.size() ? t->req.max_body_bytes - body.size() : 0;
  if (len > room) {
    body.append(data, room);
    t->resp.truncated = true;
    return 0;  // stops the transfer: what was kept is the page, flagged
  }
  body.append(data, len);
  return len;
}

}  // namespace

// libcurl's multi_socket interface on an epoll set of our own: libcurl says which sockets it
// waits on and when its next timer is due, and each ready socket is handed to it alone. The
// simpler curl_multi_perform would poll every transfer's socket on every turn, a system call
// apiece, and would send a new request only at the start of the next turn.
struct HttpLoop::Impl {
  CURLM* multi = nullptr;
  int epoll_fd = -1;
  int wake_fd = -1;             // an eventfd that wake() writes to
  std::int64_t curl_due = -1;   // steady ms when libcurl wants CURL_SOCKET_TIMEOUT; -1: no timer
  std::uint64_t next_id = 1;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::unordered_map<std::uint64_t, CURL*> by_id;
  std::vector<EasyPtr> spare;  // reset handles kept for reuse

  std::map<std::pair<std::int64_t, std::uint64_t>, Task> timers;
  std::unordered_map<std::uint64_t, std::int64_t> timer_due;

  std::mutex posted_mu;  // guards posted
  std::vector<Task> posted;

  std::vector<Task> turn_end;  // loop thread only

  EasyPtr take_easy() {
    if (!spare.empty()) {
      EasyPtr e = std::move(spare.back());
      spare.pop_back();
      return e;
    }
    return EasyPtr(curl_easy_init());
  }

  void recycle(EasyPtr e) {
    curl_easy_reset(e.get());
    if (spare.size() < 64) spare.push_back(std::move(e));
  }

  void configure(Transfer& t) {
    CURL* e = t.easy.get();
    const HttpRequest& r = t.req;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // callers follow redirects hop by hop
    curl_easy_setopt(e, CURLOPT_PROXY, "");           // never a proxy from the environment
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // libcurl reads a socket once per turn of the loop, into this buffer, and polls it before
    // each read. At the default 16 KB most pages take two or more turns; at 64 KB a typical
    // page comes in one read. libcurl holds the buffer only while the transfer runs.
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
    if (r.low_speed_bytes > 0 && r.low_speed_ms > 0) {
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(r.low_speed_bytes));
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<std::int64_t>(1, r.low_speed_ms / 1000)));
    }
    if (r.max_recv_bytes_per_s > 0) {
      curl_easy_setopt(e, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(r.max_recv_bytes_per_s));
    }
    // The connect-time check runs only when a connection opens, and curl pools connections
    // across transfers: one opened without a guard (to the coordinator) must never carry a
    // guarded request, so unguarded transfers close theirs.
    if (!r.guard) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    if (r.decode_content) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (r.capture) {
      curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
      curl_easy_setopt(e, CURLOPT_DEBUGDATA, &t);
      curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    if (!r.user_agent.empty()) curl_easy_setopt(e, CURLOPT_USERAGENT, r.user_agent.c_str());
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : r.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    if (!r.body.empty() || r.method == "POST") headers = curl_slist_append(headers, "Expect:");
    t.header_list.reset(headers);
    if (headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_slist* resolve = nullptr;
    for (const auto& entry : r.resolve) resolve = curl_slist_append(resolve, entry.c_str());
    t.resolve_list.reset(resolve);
    if (resolve) curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "POST") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (!r.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      }
    }
  }

  void finish(std::uint64_t id, CURLcode rc) {
    // By id, not by handle: an earlier callback may have cancelled this transfer and a new
    // one may already be running on the same recycled handle.
    auto found = by_id.find(id);
    if (found == by_id.end()) return;
    CURL* easy = found->second;
    auto it = transfers.find(easy);
    if (it == transfers.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    by_id.erase(t->id);
    curl_multi_remove_handle(multi, easy);

    HttpResponse& resp = t->resp;
    curl_off_t down = 0, up = 0;
    long header_size = 0, request_size = 0;
    curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &header_size);
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
    resp.wire_bytes = static_cast<std::int64_t>(down + up) + header_size + request_size;
    char* ip = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) resp.primary_ip = ip;
    if (t->guard_error) {
      resp.error = t->guard_error;
      resp.status = 0;
    } else if (rc != CURLE_OK && !resp.truncated && !resp.stopped) {
      resp.error = transport_error(rc, t->errbuf);
    }
    recycle(std::move(t->easy));
    if (t->done) t->done(std::move(resp));
  }

  static int on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp, void* socketp) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      // Also when a connection goes back to libcurl's pool still open: it is not waited on there.
      epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (socketp == nullptr) {
      // A socket handed back to libcurl's connection pool and then reused is still in the set.
      if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
        epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
      curl_multi_assign(self->multi, fd, self);  // marks it as in the set
    } else {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
  }

  static int on_curl_timer(CURLM* /*multi*/, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    self->curl_due = timeout_ms < 0 ? -1 : HttpLoop::steady_ms() + timeout_ms;
    return 0;
  }

  // Runs libcurl's due timers: starts transfers just added, enforces timeouts and rate limits.
  // libcurl reports its next timer again after every such call, even an unchanged one.
  void run_curl_timer() {
    const std::int64_t due = curl_due;
    curl_due = -1;
    int running = 0;
    if (curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_RECURSIVE_API_CALL)
      curl_due = due;  // called from one of libcurl's callbacks: nothing ran, the timer stands
  }

  void run_timers() {
    const std::int64_t now = steady_ms();
    while (!timers.empty() && timers.begin()->first.first <= now) {
      auto node = timers.extract(timers.begin());
      timer_due.erase(node.key().second);
      node.mapped()();
    }
  }

  void run_posted() {
    std::vector<Task> work;
    {
      std::lock_guard lock(posted_mu);
      work.swap(posted);
    }
    for (auto& fn : work) fn();
  }

  void run_turn_end() {
    std::vector<Task> work;
    work.swap(turn_end);
    for (auto& fn : work) fn();
  }
};

HttpLoop::HttpLoop() : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->multi = curl_multi_init();
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->multi == nullptr || impl_->epoll_fd < 0 || impl_->wake_fd < 0) {
    std::fprintf(stderr, "meadow: cannot set up the network loop: %s\n", std::strerror(errno));
    std::abort();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl_->wake_fd;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev);
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
  curl_multi_setopt(impl_->multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(impl_->multi, CURLMOPT_SOCKETDATA, impl_.get());
  curl_multi_setopt(impl_->multi, CURLMOPT_TIMERFUNCTION, &Impl::on_curl_timer);
  curl_multi_setopt(impl_->multi, CURLMOPT_TIMERDATA, impl_.get());
}

HttpLoop::~HttpLoop() {
  for (auto& [easy, t] : impl_->transfers) curl_multi_remove_handle(impl_->multi, easy);
  impl_->transfers.clear();
  impl_->spare.clear();
  curl_multi_cleanup(impl_->multi);
  ::close(impl_->wake_fd);
  ::close(impl_->epoll_fd);
}

std::int64_t HttpLoop::steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t HttpLoop::start(HttpRequest req, Callback done) {
  auto t = std::make_unique<Transfer>();
  t->id = impl_->next_id++;
  t->req = std::move(req);
  t->done = std::move(done);
  t->easy = impl_->take_easy();
  impl_->configure(*t);
  CURL* easy = t->easy.get();
  const std::uint64_t id = t->id;
  impl_->by_id[id] = easy;
  impl_->transfers[easy] = std::move(t);
  curl_multi_add_handle(impl_->multi, easy);
  // Send the request now rather than at the next turn, so the server works while this
  // thread goes on with the rest of the turn. From inside one of libcurl's own callbacks
  // this is refused, and the next turn starts the transfer instead.
  impl_->run_curl_timer();
  return id;
}

void HttpLoop::cancel(std::uint64_t id) {
  auto it = impl_->by_id.find(id);
  if (it == impl_->by_id.end()) return;
  CURL* easy = it->second;
  impl_->by_id.erase(it);
  curl_multi_remove_handle(impl_->multi, easy);
  auto t = impl_->transfers.find(easy);
  if (t != impl_->transfers.end()) {
    impl_->recycle(std::move(t->second->easy));
    impl_->transfers.erase(t);
  }
}

std::uint64_t HttpLoop::after(std::int64_t delay_ms, Task fn) {
  const std::uint64_t id = impl_->next_id++;
  const std::int64_t due = steady_ms() + std::max<std::int64_t>(0, delay_ms);
  impl_->timers.emplace(std::make_pair(due, id), std::move(fn));
  impl_->timer_due[id] = due;
  return id;
}

void HttpLoop::cancel_timer(std::uint64_t id) {
  auto it = impl_->timer_due.find(id);
  if (it == impl_->timer_due.end()) return;
  impl_->timers.erase({it->second, id});
  impl_->timer_due.erase(it);
}

void HttpLoop::post(Task fn) {
  {
    std::lock_guard lock(impl_->posted_mu);
    impl_->posted.push_back(std::move(fn));
  }
  wake();
}

void HttpLoop::at_turn_end(Task fn) { impl_->turn_end.push_back(std::move(fn)); }

void HttpLoop::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(impl_->wake_fd, &one, sizeof one);  // full only if already woken
}

void HttpLoop::run_once(std::int64_t max_wait_ms) {
  std::int64_t wait = std::max<std::int64_t>(0, max_wait_ms);
  if (!impl_->timers.empty()) wait = std::min(wait, std::max<std::int64_t>(0, impl_->timers.begin()->first.first - steady_ms()));
  {
    std::lock_guard lock(impl_->posted_mu);
    if (!impl_->posted.empty()) wait = 0;
  }
  if (!impl_->turn_end.empty()) wait = 0;
  if (impl_->curl_due >= 0) wait = std::min(wait, std::max<std::int64_t>(0, impl_->curl_due - steady_ms()));
  epoll_event events[64];
  const int n = epoll_wait(impl_->epoll_fd, events, 64, static_cast<int>(std::min<std::int64_t>(wait, 1'000'000)));
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == impl_->wake_fd) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto r = ::read(fd, &count, sizeof count);
      continue;
    }
    const std::uint32_t e = events[i].events;
    const int mask = (e & EPOLLIN ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                     (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    int running = 0;
    curl_multi_socket_action(impl_->multi, fd, mask, &running);
  }
  if (impl_->curl_due >= 0 && impl_->curl_due <= steady_ms()) impl_->run_curl_timer();
  int left = 0;
  std::vector<std::pair<std::uint64_t, CURLcode>> done;
  while (CURLMsg* msg = curl_multi_info_read(impl_->multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = impl_->transfers.find(msg->easy_handle);
    if (it != impl_->transfers.end()) done.emplace_back(it->second->id, msg->data.result);
  }
  for (auto [id, rc] : done) impl_->finish(id, rc);
  impl_->run_timers();
  impl_->run_posted();
  impl_->run_turn_end();
}

std::size_t HttpLoop::active_transfers() const { return impl_->transfers.size(); }

}  // namespace meadow::client
