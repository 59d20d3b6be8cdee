#include "client/core/engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "client/core/fetcher.h"
#include "client/core/http_loop.h"
#include "client/core/node_store.h"
#include "client/core/outbox_writer.h"
#include "client/core/record.h"
#include "client/core/result_framer.h"
#include "client/core/session.h"
#include "common/crypto.h"
#include "common/json.h"

namespace meadow::client {

namespace json = boost::json;

namespace {

constexpr const char* kLog = "node";
constexpr std::int64_t kTickMs = 1000;
constexpr std::int64_t kMaxBackoffMs = 60'000;
constexpr std::int64_t kStopGraceMs = 5'000;
constexpr std::size_t kMaxUploadBytes = 8u << 20;
constexpr std::int64_t kMaxOutboxBeforeLeasing = 2'000;

}  // namespace

std::string to_json(const EngineStatus& s) {
  json::object o{{"state", s.state},
                 {"reason", s.reason},
                 {"node_id", s.node_id},
                 {"account", s.account},
                 {"coordinator", s.coordinator},
                 {"queued", s.queued},
                 {"in_flight", s.in_flight},
                 {"pending_upload", s.pending_upload},
                 {"fetched", s.fetched},
                 {"accepted", s.accepted},
                 {"refused", s.refused},
                 {"bytes_today", s.bytes_today},
                 {"bytes_month", s.bytes_month},
                 {"paused_until_ms", s.paused_until_ms},
                 {"last_error", s.last_error},
                 {"updated_ms", s.updated_ms},
                 {"pid", s.pid}};
  return meadow::to_json(o);
}

Result<EngineStatus> parse_engine_status(std::string_view text) {
  MEADOW_ASSIGN(json::object o, parse_json_object(text, "status"));
  JsonFields f(o, "status");
  EngineStatus s;
  s.state = f.string("state", 64);
  s.reason = f.string_or("reason", "", 4096);
  s.node_id = f.string_or("node_id", "", 64);
  s.account = f.string_or("account", "", 256);
  s.coordinator = f.string_or("coordinator", "", 4096);
  s.queued = f.integer_or("queued", 0, INT64_MAX, 0);
  s.in_flight = f.integer_or("in_flight", 0, INT64_MAX, 0);
  s.pending_upload = f.integer_or("pending_upload", -1, INT64_MAX, 0);
  s.fetched = f.integer_or("fetched", 0, INT64_MAX, 0);
  s.accepted = f.integer_or("accepted", 0, INT64_MAX, 0);
  s.refused = f.integer_or("refused", 0, INT64_MAX, 0);
  s.bytes_today = f.integer_or("bytes_today", 0, INT64_MAX, 0);
  s.bytes_month = f.integer_or("bytes_month", 0, INT64_MAX, 0);
  s.paused_until_ms = f.integer_or("paused_until_ms", -1, INT64_MAX, 0);
  s.last_error = f.string_or("last_error", "", 4096);
  s.updated_ms = f.integer_or("updated_ms", 0, INT64_MAX, 0);
  s.pid = f.integer_or("pid", 0, INT64_MAX, 0);
  if (!f.ok()) return f.error();
  return s;
}

struct Engine::Impl {
  NodeSettings settings;
  const Clock& clock;
  Logger& log;
  crypto::KeyPair key;
  std::unique_ptr<NodeStore> store;
  HttpLoop loop;
  std::unique_ptr<Fetcher> fetcher;
  std::unique_ptr<Session> session;
  std::optional<crypto::PublicKey> coordinator_key;

  // Tasks this node holds: queued (not started) or in flight, by task id.
  struct Held {
    protocol::TaskLease lease;
    bool started = false;
    std::int64_t local_deadline_ms = 0;
  };
  std::unordered_map<std::int64_t, Held> held;
  std::deque<std::int64_t> queue;  // task ids, oldest lease first
  std::int64_t in_flight = 0;

  bool registered = false;
  bool registering = false;
  bool leasing = false;
  bool uploading = false;
  bool extending = false;
  std::uint64_t upload_timer = 0;
  std::int64_t lease_not_before = 0;   // steady ms
  std::int64_t upload_not_before = 0;  // steady ms
  std::int64_t lease_backoff_ms = 0;
  std::int64_t upload_backoff_ms = 0;
  std::size_t upload_singly = 0;       // results left to send one by one after a refused batch
  std::optional<StopReason> stopped_by;
  std::int64_t pause_until_ms = 0;
  std::atomic<bool> stop_requested{false};
  bool stopping = false;
  std::int64_t stop_deadline = 0;
  bool finished = false;
  std::optional<Error> fatal;
  std::int64_t fetched = 0;
  std::int64_t day_bytes = 0;
  std::int64_t month_bytes = 0;

  mutable std::mutex status_mu;  // guards status
  EngineStatus status;

  // Results on their way into the store: fetches waiting to be framed together at the turn's
  // end, then rows waiting to be written together. Declared last so they are destroyed first,
  // the framer before the writer it hands to, finishing what is queued while everything they
  // report to still exists.
  std::unique_ptr<OutboxWriter> outbox;
  std::unique_ptr<ResultFramer> framer;

  Impl(NodeSettings s, const Clock& c, Logger& l, crypto::KeyPair k, std::unique_ptr<NodeStore> st)
      : settings(std::move(s)), clock(c), log(l), key(std::move(k)), store(std::move(st)) {}

  // ---- status -------------------------------------------------------------------------

  void set_state(std::string state, std::string reason = {}) {
    std::lock_guard lock(status_mu);
    if (status.state != state || status.reason != reason) {
      // Working and waiting alternate all day; only the other states are news.
      const LogLevel level = state == "working" || state == "waiting" ? LogLevel::debug : LogLevel::info;
      log.log(level, kLog, reason.empty() ? state : state + ": " + reason);
    }
    status.state = std::move(state);
    status.reason = std::move(reason);
  }

  void note_error(const std::string& message) {
    log.warn(kLog, message);
    std::lock_guard lock(status_mu);
    status.last_error = message;
  }

  // Outbox entries, those still queued in memory (to be framed or written) included; -1 when
  // the store cannot be read.
  std::int64_t outbox_size() {
    const std::int64_t stored = store->pending_count();
    return stored < 0 ? stored : stored + static_cast<std::int64_t>(outbox->queued_results() + framer->queued());
  }

  void publish_status() {
    outbox->flush();
    auto totals = store->totals();
    std::lock_guard lock(status_mu);
    status.node_id = session ? session->node_id() : key.public_key().id();
    status.account = settings.account;
    status.coordinator = settings.coordinator;
    status.queued = static_cast<std::int64_t>(queue.size());
    status.in_flight = in_flight;
    status.pending_upload = outbox_size();
    status.fetched = fetched;
    if (totals.ok()) {
      status.accepted = totals->accepted;
      status.refused = totals->refused;
    }
    status.bytes_today = day_bytes;
    status.bytes_month = month_bytes;
    status.paused_until_ms = pause_until_ms;
    status.updated_ms = clock.now_ms();
    status.pid = ::getpid();
    (void)store->set_value("status", to_json(status));
  }

  // ---- limits and control ---------------------------------------------------------------

  void read_control() {
    auto v = store->value("pause_until_ms");
    if (!v.ok() || !v->has_value()) return;
    pause_until_ms = std::strtoll((*v)->c_str(), nullptr, 10);
  }

  // `reread`: take the day's and month's usage from the log (once a tick, and across
  // midnight); otherwise the running counters, so a cap stops work right after the fetch
  // that reached it.
  void check_limits(bool reread = true) {
    const std::int64_t now = clock.now_ms();
    if (reread) {
      outbox->flush();
      if (auto u = store->usage_since(local_day_start_ms(now)); u.ok()) day_bytes = u->wire_bytes;
      if (auto u = store->usage_since(local_month_start_ms(now)); u.ok()) month_bytes = u->wire_bytes;
    }
    auto stop = limit_stop(settings.limits, now, pause_until_ms, day_bytes, month_bytes);
    if (stop && !stopped_by) {
      stopped_by = stop;
      set_state("limited", stop->message);
      hand_back_queued();
    } else if (stop) {
      stopped_by = stop;
      set_state("limited", stop->message);
    } else if (stopped_by) {
      stopped_by.reset();
      set_state(registered ? "working" : "registering", registered ? "" : "with " + settings.coordinator);
    }
  }

  // ---- registration -----------------------------------------------------------------------

  void register_node() {
    if (registering || stopping) return;
    registering = true;
    if (!stopped_by) set_state("registering", "with " + settings.coordinator);
    session->register_node([this](CallResult<protocol::RegisterResponse> r) {
      registering = false;
      if (auto* err = std::get_if<CallError>(&r)) {
        if (!err->transient()) return fail(err->error);
        note_error(err->error.message);
        backoff(lease_backoff_ms);
        lease_not_before = HttpLoop::steady_ms() + lease_backoff_ms;
        if (!stopped_by) set_state("backing-off", "cannot register: " + err->error.message);
        loop.after(lease_backoff_ms, [this] { register_node(); });
        return;
      }
      auto& resp = std::get<protocol::RegisterResponse>(r);
      auto ck = crypto::PublicKey::from_base64(resp.coordinator_key);
      if (!ck.ok()) return fail(make_error(ErrorKind::invalid, "bad-coordinator-key", "the coordinator's key is not valid"));
      coordinator_key = *ck;
      (void)store->set_value("coordinator_key", resp.coordinator_key);
      (void)store->set_value("node_id", resp.node_id);
      registered = true;
      lease_backoff_ms = 0;
      log.info(kLog, "registered as " + resp.node_id + " for account " + resp.account);
      if (!stopped_by) set_state("working");
      pump();
    });
  }

  void fail(const Error& e) {
    log.error(kLog, e.message);
    fatal = e;
    {
      std::lock_guard lock(status_mu);
      status.last_error = e.message;
    }
    set_state("failed", e.message);
    begin_stop();
  }

  static void backoff(std::int64_t& current) {
    current = current == 0 ? 1000 : std::min(kMaxBackoffMs, current * 2);
  }

  // ---- leasing ---------------------------------------------------------------------------

  void pump() {
    dispatch();
    maybe_lease();
    schedule_upload();
  }

  void maybe_lease() {
    if (!registered || leasing || stopping || stopped_by) return;
    if (HttpLoop::steady_ms() < lease_not_before) return;
    const int want = settings.effective_lease_batch() - static_cast<int>(queue.size()) - static_cast<int>(in_flight);
    if (want <= 0 || static_cast<int>(queue.size()) >= settings.max_concurrent) return;
    if (outbox_size() > kMaxOutboxBeforeLeasing) {
      set_state("waiting", "the outbox is full; uploading before taking more work");
      return;
    }
    const bool idle = queue.empty() && in_flight == 0;
    leasing = true;
    session->lease(std::min(want, protocol::kMaxLeaseBatch), idle ? settings.long_poll_ms : 0,
                   [this](CallResult<protocol::LeaseResponse> r) { on_leased(std::move(r)); });
  }

  void on_leased(CallResult<protocol::LeaseResponse> r) {
    leasing = false;
    if (auto* err = std::get_if<CallError>(&r)) {
      if (err->status == 401 && err->error.code == "unknown-node") {
        registered = false;
        return register_node();
      }
      if (!err->transient()) return fail(err->error);
      note_error(err->error.message);
      backoff(lease_backoff_ms);
      lease_not_before = HttpLoop::steady_ms() + lease_backoff_ms;
      set_state("backing-off", "the coordinator is unreachable; trying again in " +
                                   std::to_string(lease_backoff_ms / 1000) + " s");
      loop.after(lease_backoff_ms, [this] { pump(); });
      return;
    }
    lease_backoff_ms = 0;
    auto& resp = std::get<protocol::LeaseResponse>(r);
    const std::int64_t offset = resp.server_time_ms - clock.now_ms();
    for (auto& t : resp.tasks) {
      if (held.count(t.task_id)) continue;
      const std::int64_t id = t.task_id;
      const std::int64_t deadline = t.deadline_ms - offset;
      held[id] = Held{std::move(t), false, deadline};
      queue.push_back(id);
    }
    if (stopping || stopped_by) {
      hand_back_queued();
      return;
    }
    if (resp.tasks.empty()) {
      lease_not_before = HttpLoop::steady_ms() + std::clamp<std::int64_t>(resp.next_poll_ms, 200, 60'000);
      if (in_flight == 0 && queue.empty()) set_state("waiting", "no work from the coordinator right now");
      loop.after(std::clamp<std::int64_t>(resp.next_poll_ms, 200, 60'000), [this] { pump(); });
    } else {
      set_state("working");
    }
    pump();
  }

  // Leases not started go back to the coordinator at once rather than expiring there.
  void hand_back_queued() {
    std::vector<protocol::LeaseRef> refs;
    for (std::int64_t id : queue) {
      auto it = held.find(id);
      if (it == held.end()) continue;
      refs.push_back({id, it->second.lease.token});
      held.erase(it);
    }
    queue.clear();
    if (refs.empty()) return;
    log.info(kLog, "handing back " + std::to_string(refs.size()) + " task(s) not started");
    session->release(refs, [this, n = refs.size()](CallResult<protocol::ReleaseResponse> r) {
      if (auto* err = std::get_if<CallError>(&r)) {
        note_error("handing back " + std::to_string(n) + " task(s) failed (they return to the queue when their leases end): " +
                   err->error.message);
      }
    });
  }

  void extend_due() {
    if (!registered || extending || held.empty()) return;
    const std::int64_t now = clock.now_ms();
    const std::int64_t margin = std::max<std::int64_t>(settings.fetch.timeout_ms * 2, 20'000);
    std::vector<protocol::LeaseRef> refs;
    for (auto& [id, h] : held) {
      if (h.local_deadline_ms - now < margin) refs.push_back({id, h.lease.token});
      if (refs.size() >= static_cast<std::size_t>(protocol::kMaxLeaseBatch)) break;
    }
    if (refs.empty()) return;
    extending = true;
    session->extend(refs, settings.extend_ms, [this](CallResult<protocol::ExtendResponse> r) {
      extending = false;
      if (auto* err = std::get_if<CallError>(&r)) return note_error("extending leases failed: " + err->error.message);
      auto& resp = std::get<protocol::ExtendResponse>(r);
      const std::int64_t now2 = clock.now_ms();
      for (const auto& e : resp.extended) {
        auto it = held.find(e.task_id);
        if (it != held.end()) it->second.local_deadline_ms = now2 + settings.extend_ms - 1000;
      }
      for (const auto& refused : resp.refused) {
        // The lease is gone: a task not started is dropped; one in flight finishes and its
        // result is refused or accepted by the coordinator on its own terms.
        auto it = held.find(refused.task_id);
        if (it != held.end() && !it->second.started) {
          held.erase(it);
          std::erase(queue, refused.task_id);
        }
      }
    });
  }

  // ---- fetching --------------------------------------------------------------------------

  void dispatch() {
    while (!stopping && !stopped_by && in_flight < settings.max_concurrent && !queue.empty()) {
      const std::int64_t id = queue.front();
      queue.pop_front();
      auto it = held.find(id);
      if (it == held.end()) continue;
      it->second.started = true;
      ++in_flight;
      fetcher->fetch(it->second.lease.url, [this, id](FetchResult r) { on_fetched(id, std::move(r)); },
                     it->second.lease.captures);
    }
  }

  void on_fetched(std::int64_t id, FetchResult r) {
    --in_flight;
    ++fetched;
    auto it = held.find(id);
    if (it == held.end()) return pump();
    protocol::TaskLease lease = std::move(it->second.lease);
    held.erase(it);
    day_bytes += r.wire_bytes;
    month_bytes += r.wire_bytes;
    framer->add(std::move(lease), std::move(r));  // on_framed at the turn's end
    check_limits(false);
    pump();
  }

  void on_framed(const protocol::TaskLease& lease, const FetchResult& r, FramedResult framed) {
    Contribution c = contribution_of(lease, r, framed);
    for (const std::string& problem : framed.field_problems) log.warn(kLog, "field " + problem + " on " + lease.url);
    log.info(kLog, c.outcome + " " + lease.url + (r.http_status ? " " + std::to_string(r.http_status) : "") +
                       (c.reason.empty() ? "" : " (" + c.reason + ")") + " " + std::to_string(c.bytes) + " B");
    outbox->add(std::move(c), std::move(framed.frame));
  }

  void on_robots_fetch(const FetchEvent& e) {
    Contribution c;
    c.url = e.url;
    c.final_url = e.url;
    c.started_ms = c.finished_ms = clock.now_ms();
    c.http_status = e.http_status;
    c.wire_bytes = e.wire_bytes;
    c.outcome = e.error.empty() ? "ok" : "failed";
    c.reason = e.error.empty() ? "robots.txt" : "robots.txt: " + e.error;
    c.state = "local";
    outbox->add(std::move(c), {});
    day_bytes += e.wire_bytes;
    month_bytes += e.wire_bytes;
  }

  // ---- uploading ---------------------------------------------------------------------------

  void schedule_upload() {
    if (!registered || uploading) return;
    const std::int64_t pending = outbox_size();
    if (pending <= 0) return;
    const std::int64_t now = HttpLoop::steady_ms();
    if (now < upload_not_before) {
      if (!upload_timer) upload_timer = loop.after(upload_not_before - now, [this] { upload_timer = 0; schedule_upload(); });
      return;
    }
    if (pending >= settings.upload_batch || upload_singly > 0 || stopping) {
      if (upload_timer) loop.cancel_timer(upload_timer);
      upload_timer = 0;
      return upload_now();
    }
    if (!upload_timer) {
      upload_timer = loop.after(settings.upload_delay_ms, [this] {
        upload_timer = 0;
        upload_now();
      });
    }
  }

  void upload_now() {
    if (uploading || !registered) return;
    outbox->flush();
    const std::size_t n = upload_singly > 0 ? 1 : static_cast<std::size_t>(settings.upload_batch);
    auto items = store->pending(n, kMaxUploadBytes);
    if (!items.ok()) return note_error("reading the outbox failed: " + items.error().message);
    if (items->empty()) return;
    std::string body;
    for (const auto& p : *items) body += p.frame;
    uploading = true;
    auto batch = std::make_shared<std::vector<PendingResult>>(std::move(items).value());
    session->upload(std::move(body), [this, batch](CallResult<protocol::UploadResponse> r) {
      uploading = false;
      on_uploaded(*batch, std::move(r));
      if (upload_singly > 0) --upload_singly;
      schedule_upload();
    });
  }

  void on_uploaded(const std::vector<PendingResult>& batch, CallResult<protocol::UploadResponse> r) {
    if (auto* err = std::get_if<CallError>(&r)) {
      if (err->status == 401 && err->error.code == "unknown-node") {
        registered = false;
        return register_node();
      }
      if (err->transient()) {
        backoff(upload_backoff_ms);
        upload_not_before = HttpLoop::steady_ms() + upload_backoff_ms;
        note_error("upload failed, retrying in " + std::to_string(upload_backoff_ms / 1000) + " s: " + err->error.message);
        return;
      }
      if (batch.size() > 1) {
        // The upload is all or nothing: find the refused result by sending them one by one.
        upload_singly = batch.size() + 1;
        return;
      }
      note_error("the coordinator refused the result for task " + std::to_string(batch[0].task_id) + ": " +
                 err->error.message);
      (void)store->settle({{batch[0].contribution_id, "refused", "", err->error.code + ": " + err->error.message}});
      return;
    }
    upload_backoff_ms = 0;
    upload_not_before = 0;
    const auto& resp = std::get<protocol::UploadResponse>(r);
    std::unordered_map<std::int64_t, std::int64_t> contribution_of;
    for (const auto& p : batch) contribution_of[p.task_id] = p.contribution_id;
    std::vector<Settlement> settled;
    for (const auto& item : resp.items) {
      auto c = contribution_of.find(item.task_id);
      if (c == contribution_of.end()) continue;
      Settlement s{c->second, item.duplicate ? "duplicate" : "accepted", "", ""};
      if (item.outcome != protocol::Outcome::ok) s.state = "reported";
      if (item.receipt) {
        if (coordinator_key && protocol::verify_receipt(*item.receipt, *coordinator_key).ok()) {
          s.receipt = meadow::to_json(protocol::to_json_object(*item.receipt));
        } else {
          s.state = "refused";
          s.reason = "bad-receipt: the coordinator's receipt does not verify";
          note_error("a receipt for task " + std::to_string(item.task_id) + " does not verify with the coordinator's key");
        }
      }
      settled.push_back(std::move(s));
    }
    if (auto st = store->settle(settled); !st.ok()) note_error("recording receipts failed: " + st.error().message);
  }

  // ---- the loop ----------------------------------------------------------------------------

  void tick() {
    outbox->flush();
    if (store->changed_elsewhere()) read_control();
    check_limits();
    extend_due();
    publish_status();
    if (stopping) {
      const bool drained = in_flight == 0 && (store->pending_count() <= 0 || !registered);
      if (drained || HttpLoop::steady_ms() >= stop_deadline) finish_stop();
    } else {
      pump();
    }
  }

  void begin_stop() {
    if (stopping) return;
    stopping = true;
    stop_deadline = HttpLoop::steady_ms() + kStopGraceMs;
    if (registered) hand_back_queued();
    if (!fatal) set_state("stopping", "finishing fetches in progress");
    schedule_upload();
  }

  void finish_stop() {
    if (finished) return;
    if (registered && !held.empty()) {
      std::vector<protocol::LeaseRef> refs;
      for (auto& [id, h] : held) refs.push_back({id, h.lease.token});
      session->release(refs, [](CallResult<protocol::ReleaseResponse>) {});
      const std::int64_t until = HttpLoop::steady_ms() + 1000;
      while (HttpLoop::steady_ms() < until && loop.active_transfers() > 0) loop.run_once(50);
    }
    finished = true;
    if (!fatal) set_state("stopped");
    publish_status();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(NodeSettings settings, const Clock& clock, Logger& log) {
  MEADOW_TRY(validate_node_settings(settings));
  MEADOW_TRY(make_data_dir(settings.data_dir));
  MEADOW_ASSIGN(crypto::KeyPair key, crypto::KeyPair::load_or_create(settings.key_path()));
  MEADOW_ASSIGN(std::unique_ptr<NodeStore> store, NodeStore::open(settings.database_path()));
  if (settings.rate_bytes_per_s > 0) {
    settings.fetch.max_recv_bytes_per_s = std::max<std::int64_t>(1024, settings.rate_bytes_per_s / settings.max_concurrent);
  }
  auto impl = std::make_unique<Impl>(std::move(settings), clock, log, std::move(key), std::move(store));
  Impl& e = *impl;
  e.outbox = std::make_unique<OutboxWriter>(*e.store, e.loop, [&e](const Error& err, std::size_t rows) {
    e.note_error("the outbox could not store " + (rows == 1 ? std::string("a fetch") : std::to_string(rows) + " fetches") +
                 ": " + err.message);
  });
  e.framer = std::make_unique<ResultFramer>(e.loop, e.key, e.key.public_key().id(),
                                            [&e](protocol::TaskLease lease, FetchResult r, FramedResult framed) {
                                              e.on_framed(lease, r, std::move(framed));
                                            });
  e.fetcher = std::make_unique<Fetcher>(e.loop, clock, e.settings.fetch);
  e.fetcher->set_robots_observer([&e](const FetchEvent& ev) { e.on_robots_fetch(ev); });
  SessionSettings ss{e.settings.coordinator, e.settings.account, e.settings.node_name,
                     std::string("meadow-node/") + kClientVersion};
  e.session = std::make_unique<Session>(e.loop, clock, e.key, ss);
  if (auto ck = e.store->value("coordinator_key"); ck.ok() && ck->has_value()) {
    if (auto k = crypto::PublicKey::from_base64(**ck); k.ok()) e.coordinator_key = *k;
  }
  e.read_control();
  e.status.node_id = e.key.public_key().id();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Status Engine::run() {
  Impl& e = *impl_;
  const std::int64_t pending = e.store->pending_count();
  if (pending > 0) e.log.info(kLog, std::to_string(pending) + " result(s) from an earlier run wait in the outbox");
  e.check_limits();
  e.register_node();
  std::int64_t next_tick = HttpLoop::steady_ms();
  while (!e.finished) {
    if (e.stop_requested.load() && !e.stopping) e.begin_stop();
    const std::int64_t now = HttpLoop::steady_ms();
    if (now >= next_tick) {
      e.tick();
      next_tick = now + kTickMs;
    }
    e.loop.run_once(std::max<std::int64_t>(1, next_tick - HttpLoop::steady_ms()));
  }
  if (e.fatal) return *e.fatal;
  return {};
}

void Engine::stop() {
  impl_->stop_requested.store(true);
  impl_->loop.wake();
}

void Engine::pause(std::int64_t until_ms) {
  impl_->loop.post([this, until_ms] {
    impl_->pause_until_ms = until_ms;
    (void)impl_->store->set_value("pause_until_ms", std::to_string(until_ms));
    impl_->check_limits();
    impl_->publish_status();
  });
}

void Engine::resume() { pause(0); }

EngineStatus Engine::status() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->status;
}

const std::string& Engine::node_id() const { return impl_->session->node_id(); }

}  // namespace meadow::client
