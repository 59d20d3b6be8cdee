#include "coordinator/service.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace meadow::coordinator {

Service::Service(const Config& config, const Clock& clock, Logger& log, std::unique_ptr<Store> store,
                 crypto::KeyPair key)
    : config_(config), clock_(clock), log_(log), store_(std::move(store)), key_(std::move(key)) {
  scheduler_ = std::make_unique<Scheduler>(*store_, clock_, config_.scheduler);
  api_ = std::make_unique<api::Context>(*store_, *scheduler_, clock_, key_, metrics_, log_, config_.api);
  datasets::AssemblerOptions dopt = config_.datasets;
  dopt.dir = config_.datasets_path();
  assembler_ = std::make_unique<datasets::Assembler>(*store_, key_, clock_, log_, dopt);
  api_->datasets_dir = dopt.dir;
}

Service::~Service() {
  if (assembler_) assembler_->stop();
}

Result<std::unique_ptr<Store>> open_store(const Config& config) {
  if (::mkdir(config.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(ErrorKind::io, "data-dir",
                      "cannot create data_dir '" + config.data_dir + "': " + std::strerror(errno));
  }
  return open_sqlite_store(SqliteOptions{config.database_path()});
}

Result<std::unique_ptr<Service>> Service::start(const Config& config, const Clock& clock, Logger& log) {
  MEADOW_TRY(validate_config(config));
  MEADOW_ASSIGN(auto store, open_store(config));
  MEADOW_ASSIGN(auto key, crypto::KeyPair::load_or_create(config.key_path()));
  std::unique_ptr<Service> svc(new Service(config, clock, log, std::move(store), std::move(key)));
  api::Context* ctx = svc->api_.get();
  http::ServerOptions opts = config.server;
  opts.body_limit = [ctx](std::string_view method, std::string_view path) { return api::body_limit(*ctx, method, path); };
  Metrics* metrics = &svc->metrics_;
  MEADOW_ASSIGN(svc->server_,
                http::Server::start(
                    opts, [ctx](const http::Request& r) { return api::handle(r, *ctx); }, log,
                    [metrics](const http::Request&, const http::Response& resp, double seconds) {
                      metrics->observe_request(resp.route.empty() ? "other" : resp.route, resp.status, seconds);
                    }));
  http::Server* server = svc->server_.get();
  // Waking (and batch-leasing for) parked nodes runs after the request that brought the
  // work has been answered, not inside it.
  ctx->notify_work = [server](std::size_t n) { server->post([server, n] { server->notify_waiters(n); }); };
  Store* st = svc->store_.get();
  metrics->gauge("queue_tasks", "Tasks by state.", [st]() {
    std::map<std::string, double> out;
    auto stats = st->queue_stats();
    if (!stats.ok()) return out;
    const TaskCounts& c = stats->total;
    out["state=\"queued\""] = static_cast<double>(c.queued);
    out["state=\"leased\""] = static_cast<double>(c.leased);
    out["state=\"done\""] = static_cast<double>(c.done);
    out["state=\"skipped\""] = static_cast<double>(c.skipped);
    out["state=\"dead\""] = static_cast<double>(c.dead);
    out["state=\"cancelled\""] = static_cast<double>(c.cancelled);
    return out;
  });
  metrics->gauge("http_open_connections", "Open HTTP connections.", [server]() {
    return std::map<std::string, double>{{"", static_cast<double>(server->open_connections())}};
  });
  metrics->gauge("lease_long_polls", "Lease requests waiting for work.", [server]() {
    return std::map<std::string, double>{{"", static_cast<double>(server->parked_requests())}};
  });
  datasets::Assembler* assembler = svc->assembler_.get();
  ctx->results_accepted = [assembler] { assembler->wake(); };
  assembler->start();
  Service* self = svc.get();
  svc->server_->every(config.reap_interval_ms, [self] { self->tick(); });
  log.info("coordinator", "serving protocol 1.0 on " + std::string(svc->server_->tls() ? "https" : "http") + "://" +
                              config.server.bind_address + ":" + std::to_string(svc->server_->port()) +
                              " with database " + config.database_path());
  return svc;
}

void Service::tick() {
  auto reaped = scheduler_->reap();
  if (!reaped.ok()) {
    log_.warn("scheduler", "reaping expired leases failed: " + reaped.error().message);
    return;
  }
  if (reaped->requeued + reaped->dead > 0) {
    log_.info("scheduler", std::to_string(reaped->requeued) + " expired leases requeued, " +
                               std::to_string(reaped->dead) + " tasks dead-lettered");
    metrics_.add("leases_expired_total", reaped->requeued + reaped->dead);
  }
  // Work that became available by time (retry delays, refilled politeness budgets, jobs
  // added by the CLI in another process) wakes some of the waiting nodes.
  std::size_t parked = server_->parked_requests();
  if (parked == 0) return;
  auto next = store_->next_available_ms();
  if (next.ok() && next->has_value() && **next <= clock_.now_ms()) server_->notify_waiters(std::min<std::size_t>(parked, 256));
}

void Service::run() {
  server_->run();
  assembler_->stop();
}

void Service::shutdown() {
  api_->draining = true;
  server_->shutdown();
}

std::uint16_t Service::port() const { return server_->port(); }

}  // namespace meadow::coordinator
