#include "client/core/http_loop.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
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

struct HttpLoop::Impl {
  CURLM* multi = nullptr;
  std::uint64_t next_id = 1;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::unordered_map<std::uint64_t, CURL*> by_id;
  std::vector<EasyPtr> spare;  // reset handles kept for reuse

  std::map<std::pair<std::int64_t, std::uint64_t>, Task> timers;
  std::unordered_map<std::uint64_t, std::int64_t> timer_due;

  std::mutex posted_mu;  // guards posted
  std::vector<Task> posted;

  std::vector<Task> turn_end;  // loop thread only
  bool started_in_turn = false;  // a transfer was started since the last perform

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

  // Lets libcurl move every transfer along, then ends those it finished.
  void perform() {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    std::vector<std::pair<std::uint64_t, CURLcode>> done;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = transfers.find(msg->easy_handle);
      if (it != transfers.end()) done.emplace_back(it->second->id, msg->data.result);
    }
    for (auto [id, rc] : done) finish(id, rc);
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
    while (!turn_end.empty()) {
      work.swap(turn_end);
      for (auto& fn : work) fn();
      work.clear();
    }
  }
};

HttpLoop::HttpLoop() : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->multi = curl_multi_init();
  // A bound on sockets to one host, not the node's politeness: the fetcher paces requests to a
  // host (HostPoliteness, 1 s apart by default) long before this matters. With pacing off (a
  // local site, the benchmark) 16 keep the server busy while the loop frames the last turn's
  // pages; at 8 the loop sat idle 4-6% of the time waiting for the next responses.
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
}

HttpLoop::~HttpLoop() {
  for (auto& [easy, t] : impl_->transfers) curl_multi_remove_handle(impl_->multi, easy);
  impl_->transfers.clear();
  impl_->spare.clear();
  curl_multi_cleanup(impl_->multi);
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
  impl_->started_in_turn = true;
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

void HttpLoop::wake() { curl_multi_wakeup(impl_->multi); }

void HttpLoop::run_once(std::int64_t max_wait_ms) {
  std::int64_t wait = std::max<std::int64_t>(0, max_wait_ms);
  if (!impl_->timers.empty()) wait = std::min(wait, std::max<std::int64_t>(0, impl_->timers.begin()->first.first - steady_ms()));
  {
    std::lock_guard lock(impl_->posted_mu);
    if (!impl_->posted.empty()) wait = 0;
  }
  if (!impl_->turn_end.empty()) wait = 0;
  // One perform a turn, and a second only before turn-end work (below). curl_multi_poll cuts
  // its wait short when one of libcurl's own timers is due, and a newly added transfer is due
  // at once, so no perform is needed before it; each perform polls every transfer's socket, a
  // system call apiece.
  impl_->started_in_turn = false;
  if (wait > 0) curl_multi_poll(impl_->multi, nullptr, 0, static_cast<int>(std::min<std::int64_t>(wait, 1'000'000)), nullptr);
  impl_->perform();
  impl_->run_timers();
  impl_->run_posted();
  // Transfers started in this turn (the next pages, as earlier ones ended) send their requests
  // now, not after the turn-end work: the servers then answer while that work runs (framing a
  // busy turn's pages takes milliseconds) instead of the loop waiting for them afterwards.
  if (impl_->started_in_turn && !impl_->turn_end.empty()) {
    impl_->started_in_turn = false;
    impl_->perform();
  }
  impl_->run_turn_end();
}

std::size_t HttpLoop::active_transfers() const { return impl_->transfers.size(); }

}  // namespace meadow::client
