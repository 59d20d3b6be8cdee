#include <charconv>
#include <exception>

#include "common/json.h"
#include "common/protocol.h"
#include "coordinator/api/context.h"
#include "coordinator/api/problem.h"

namespace meadow::coordinator::api {

http::Response json_response(int status, std::string body, std::string route) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.route = std::move(route);
  r.set_header(kProtocolHeader, kProtocolVersion);
  return r;
}

bool parse_id(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out > 0;
}

Error method_not_allowed(const http::Request& r) {
  return make_error(ErrorKind::invalid, "method-not-allowed", r.method + " is not allowed on " + r.path);
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 1;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

http::Response routed(http::Response resp, const char* route) {
  if (resp.route.empty() || resp.route == "error") resp.route = route;
  return resp;
}

http::Response dispatch(const http::Request& r, Context& ctx) {
  const std::string& p = r.path;
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  if (const std::string* v = r.header(protocol::kVersionHeader)) {
    auto st = protocol::check_version(*v);
    if (!st.ok()) return problem(st.error());
  }
  if (p == "/healthz") {
    if (!get) return problem(method_not_allowed(r));
    return json_response(200, R"({"status":"ok"})", "healthz");
  }
  if (p == "/readyz") {
    if (!get) return problem(method_not_allowed(r));
    if (ctx.draining) return routed(problem(make_error(ErrorKind::unavailable, "draining", "the coordinator is shutting down")), "readyz");
    auto st = ctx.store.ping();
    if (!st.ok()) return routed(problem(make_error(ErrorKind::unavailable, "storage-down", st.error().message)), "readyz");
    return json_response(200, R"({"status":"ready"})", "readyz");
  }
  if (p == "/metrics") {
    if (!get) return problem(method_not_allowed(r));
    auto resp = json_response(200, ctx.metrics.render(), "metrics");
    resp.content_type = "text/plain; version=0.0.4";
    return resp;
  }
  if (p == "/v1/info") {
    if (!get) return problem(method_not_allowed(r));
    return json_response(200,
                         "{\"protocol\":" + json_quote(protocol::kVersion) +
                             ",\"coordinator_key\":" + json_quote(ctx.key.public_key().base64()) +
                             ",\"coordinator_key_id\":" + json_quote(ctx.key.public_key().id('c')) +
                             ",\"server_time_ms\":" + std::to_string(ctx.clock.now_ms()) + "}",
                         "info");
  }
  if (p == "/v1/coordinator-key") {
    if (!get) return problem(method_not_allowed(r));
    return json_response(200,
                         "{\"algorithm\":\"ed25519\",\"key\":" + json_quote(ctx.key.public_key().base64()) +
                             ",\"key_id\":" + json_quote(ctx.key.public_key().id('c')) + "}",
                         "coordinator_key");
  }
  if (p == "/v1/nodes/register") return post ? node_register(r, ctx) : problem(method_not_allowed(r));
  if (p == "/v1/lease") return post ? node_lease(r, ctx) : problem(method_not_allowed(r));
  if (p == "/v1/leases/extend") return post ? node_extend(r, ctx) : problem(method_not_allowed(r));
  if (p == "/v1/leases/release") return post ? node_release(r, ctx) : problem(method_not_allowed(r));
  if (p == "/v1/results") return post ? node_upload(r, ctx) : problem(method_not_allowed(r));

  auto parts = split_path(p);
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "admin") {
    auto st = authenticate_admin(r, ctx);
    if (!st.ok()) return routed(problem(st.error()), "admin");
  }
  if (parts.size() >= 3 && parts[0] == "v1" && parts[1] == "admin") {
    if (parts[2] == "jobs") {
      if (parts.size() == 3) {
        if (post) return admin_jobs_create(r, ctx);
        if (get) return admin_jobs_list(r, ctx);
        return problem(method_not_allowed(r));
      }
      std::int64_t id = 0;
      if (!parse_id(parts[3], id)) {
        return routed(problem(make_error(ErrorKind::not_found, "unknown-job",
                                         "'" + std::string(parts[3]) + "' is not a job id")), "admin_job");
      }
      if (parts.size() == 4) return get ? admin_job_get(r, ctx, id) : problem(method_not_allowed(r));
      if (parts.size() == 5 && (parts[4] == "pause" || parts[4] == "resume" || parts[4] == "cancel")) {
        return post ? admin_job_state(r, ctx, id, parts[4]) : problem(method_not_allowed(r));
      }
      if (parts.size() == 5 && parts[4] == "dead-letters") {
        return get ? admin_job_dead(r, ctx, id) : problem(method_not_allowed(r));
      }
    }
    if (parts[2] == "customers") {
      if (parts.size() == 3) return (get || post) ? admin_customers(r, ctx) : problem(method_not_allowed(r));
      if (parts.size() == 5 && parts[4] == "keys") {
        return post ? admin_customer_keys(r, ctx, std::string(parts[3])) : problem(method_not_allowed(r));
      }
    }
    if (parts[2] == "keys" && parts.size() == 5 && parts[4] == "revoke") {
      return post ? admin_key_revoke(r, ctx, std::string(parts[3])) : problem(method_not_allowed(r));
    }
    if (parts[2] == "queue" && parts.size() == 3) return get ? admin_queue(r, ctx) : problem(method_not_allowed(r));
    if (parts[2] == "nodes") {
      if (parts.size() == 3) return get ? admin_nodes(r, ctx) : problem(method_not_allowed(r));
      if (parts.size() == 5 && parts[4] == "ban") {
        return post ? admin_node_ban(r, ctx, std::string(parts[3])) : problem(method_not_allowed(r));
      }
    }
  }
  if (parts.size() >= 2 && parts[0] == "v1" && (parts[1] == "jobs" || parts[1] == "datasets")) {
    return routed(buyer_route(r, ctx, parts), parts[1] == "jobs" ? "buyer_jobs" : "datasets");
  }
  return routed(problem(make_error(ErrorKind::not_found, "no-such-endpoint",
                                   "there is no endpoint " + r.method + " " + p + "; see schemas/openapi.yaml")),
                "not_found");
}

}  // namespace

http::Response handle(const http::Request& r, Context& ctx) {
  try {
    return dispatch(r, ctx);
  } catch (const std::exception& e) {
    ctx.log.error("api", std::string("handler failed: ") + e.what());
  } catch (...) {
    ctx.log.error("api", "handler failed with an unknown exception");
  }
  return problem(make_error(ErrorKind::internal, "internal", "the coordinator failed to handle this request"));
}

std::size_t body_limit(const Context& ctx, std::string_view method, std::string_view path) {
  if (method == "POST" && path == "/v1/results") return ctx.options.max_upload_body;
  return ctx.options.max_json_body;
}

}  // namespace meadow::coordinator::api
