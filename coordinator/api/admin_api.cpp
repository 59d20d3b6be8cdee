// Operator handlers: jobs, queue statistics, nodes. handle() checks the admin key first.

#include "common/json.h"
#include "coordinator/api/context.h"
#include "coordinator/api/customers.h"
#include "coordinator/api/problem.h"
#include "coordinator/store/job_codec.h"

namespace meadow::coordinator::api {
namespace json = boost::json;

namespace {

json::object node_json(const Node& n) {
  return json::object{{"id", n.id},
                      {"public_key", crypto::base64_encode(n.public_key)},
                      {"account", n.account},
                      {"name", n.name},
                      {"client", n.client},
                      {"banned", n.banned},
                      {"ban_reason", n.ban_reason},
                      {"registered_ms", n.registered_ms},
                      {"last_seen_ms", n.last_seen_ms},
                      {"accepted", n.accepted}};
}

http::Response job_answer(int status, const Job& job) {
  return json_response(status, meadow::to_json(to_json(job)), "admin_job");
}

}  // namespace


http::Response admin_jobs_create(const http::Request& r, Context& ctx) {
  auto obj = parse_json_object(r.body, "job");
  if (!obj.ok()) return problem(obj.error());
  auto spec = job_spec_from_json(*obj);
  if (!spec.ok()) return problem(spec.error());
  auto id = ctx.scheduler.create_job(std::move(spec).value());
  if (!id.ok()) return problem(id.error());
  auto job = ctx.store.get_job(*id);
  if (!job.ok()) return problem(job.error());
  ctx.log.info("api", "job " + std::to_string(*id) + " '" + job->spec.name + "' created with " +
                          std::to_string(job->counts.total()) + " tasks");
  if (ctx.notify_work) ctx.notify_work(static_cast<std::size_t>(job->counts.queued));
  auto resp = job_answer(201, *job);
  resp.set_header("location", "/v1/admin/jobs/" + std::to_string(*id));
  return resp;
}

http::Response admin_jobs_list(const http::Request& r, Context& ctx) {
  auto jobs = ctx.store.list_jobs(r.query_param("owner").value_or(""));
  if (!jobs.ok()) return problem(jobs.error());
  json::array arr;
  for (const auto& j : *jobs) arr.push_back(to_json(j));
  return json_response(200, meadow::to_json(json::object{{"jobs", std::move(arr)}}), "admin_jobs");
}

http::Response admin_job_get(const http::Request&, Context& ctx, std::int64_t job_id) {
  auto job = ctx.store.get_job(job_id);
  if (!job.ok()) return problem(job.error());
  return job_answer(200, *job);
}

http::Response admin_job_state(const http::Request&, Context& ctx, std::int64_t job_id, std::string_view action) {
  JobState target = action == "pause" ? JobState::paused : action == "resume" ? JobState::active : JobState::cancelled;
  auto st = ctx.store.set_job_state(job_id, target, ctx.clock.now_ms());
  if (!st.ok()) return problem(st.error());
  auto job = ctx.store.get_job(job_id);
  if (!job.ok()) return problem(job.error());
  if (target == JobState::active && ctx.notify_work) ctx.notify_work(static_cast<std::size_t>(job->counts.queued));
  return job_answer(200, *job);
}

http::Response admin_job_dead(const http::Request&, Context& ctx, std::int64_t job_id) {
  auto job = ctx.store.get_job(job_id);
  if (!job.ok()) return problem(job.error());
  auto dead = ctx.store.dead_tasks(job_id, 1000);
  if (!dead.ok()) return problem(dead.error());
  json::array arr;
  for (const auto& d : *dead) {
    json::array reasons;
    for (const auto& f : d.failures) {
      reasons.push_back(json::object{{"attempt", f.attempt}, {"node_id", f.node_id}, {"reason", f.reason}, {"at_ms", f.at_ms}});
    }
    arr.push_back(json::object{{"task_id", d.task.id}, {"url", d.task.url}, {"attempts", d.task.attempts},
                               {"failures", std::move(reasons)}});
  }
  return json_response(200, meadow::to_json(json::object{{"job_id", job_id}, {"tasks", std::move(arr)}}), "admin_dead");
}

http::Response admin_queue(const http::Request&, Context& ctx) {
  auto st = ctx.store.queue_stats();
  if (!st.ok()) return problem(st.error());
  json::array jobs, sites;
  for (const auto& j : st->jobs) {
    jobs.push_back(json::object{{"job_id", j.job_id}, {"name", j.name}, {"state", to_string(j.state)}, {"counts", to_json(j.counts)}});
  }
  for (const auto& s : st->sites) sites.push_back(json::object{{"site", s.site}, {"counts", to_json(s.counts)}});
  return json_response(200,
                       meadow::to_json(json::object{{"total", to_json(st->total)}, {"jobs", std::move(jobs)}, {"sites", std::move(sites)}}),
                       "admin_queue");
}

http::Response admin_nodes(const http::Request&, Context& ctx) {
  auto nodes = ctx.store.list_nodes();
  if (!nodes.ok()) return problem(nodes.error());
  json::array arr;
  for (const auto& n : *nodes) arr.push_back(node_json(n));
  return json_response(200, meadow::to_json(json::object{{"nodes", std::move(arr)}}), "admin_nodes");
}

http::Response admin_node_ban(const http::Request& r, Context& ctx, const std::string& node_id) {
  std::string reason;
  if (!r.body.empty()) {
    auto obj = parse_json_object(r.body, "ban");
    if (!obj.ok()) return problem(obj.error());
    JsonFields f(*obj, "ban");
    reason = f.string_or("reason", "", 1024);
    if (!f.ok()) return problem(f.error());
  }
  auto st = ctx.store.ban_node(node_id, reason, ctx.clock.now_ms());
  if (!st.ok()) return problem(st.error());
  auto node = ctx.store.get_node(node_id);
  if (!node.ok()) return problem(node.error());
  ctx.log.info("api", "node " + node_id + " banned" + (reason.empty() ? "" : ": " + reason));
  return json_response(200, meadow::to_json(node_json(*node)), "admin_ban");
}

namespace {

Result<NewKey> key_from_json(const json::object& obj) {
  JsonFields f(obj, "key");
  NewKey k;
  std::string scopes = f.string_or("scopes", "read,submit", 64);
  k.rate_per_minute = f.integer_or("rate_per_minute", 1, 1'000'000, k.rate_per_minute);
  k.label = f.string_or("label", "", 256);
  if (!f.ok()) return f.error();
  if (!parse_scopes(scopes, k.scopes)) {
    return make_error(ErrorKind::invalid, "bad-customer", "scopes must be 'read', 'submit' or 'read,submit', not '" + scopes + "'");
  }
  return k;
}

json::object issued_json(const IssuedKey& k) {
  json::object o = to_json(k.key);
  o["secret"] = k.secret;
  return o;
}

}  // namespace

http::Response admin_customers(const http::Request& r, Context& ctx) {
  Catalog& cat = ctx.store.catalog();
  if (r.method == "GET" || r.method == "HEAD") {
    auto list = cat.list_customers();
    if (!list.ok()) return problem(list.error());
    json::array arr;
    for (const auto& c : *list) {
      json::object o = to_json(c);
      json::array keys;
      auto ks = cat.list_api_keys(c.id);
      if (!ks.ok()) return problem(ks.error());
      for (const auto& k : *ks) keys.push_back(to_json(k));
      o["keys"] = std::move(keys);
      arr.push_back(std::move(o));
    }
    return json_response(200, meadow::to_json(json::object{{"customers", std::move(arr)}}), "admin_customers");
  }
  auto obj = parse_json_object(r.body, "customer");
  if (!obj.ok()) return problem(obj.error());
  JsonFields f(*obj, "customer");
  NewCustomer nc;
  nc.name = f.string("name", 128);
  nc.max_active_jobs = f.integer_or("max_active_jobs", 1, 1'000'000'000, nc.max_active_jobs);
  nc.max_pages = f.integer_or("max_pages", 1, 1'000'000'000, nc.max_pages);
  if (!f.ok()) return problem(f.error());
  auto key = key_from_json(*obj);
  if (!key.ok()) return problem(key.error());
  auto v = validate(*key);
  if (!v.ok()) return problem(v.error());
  auto c = create_customer(cat, nc, ctx.clock.now_ms());
  if (!c.ok()) return problem(c.error());
  auto issued = issue_key(cat, c->id, *key, ctx.clock.now_ms());
  if (!issued.ok()) return problem(issued.error());
  ctx.log.info("api", "customer " + c->id + " '" + c->name + "' created");
  json::object o = to_json(*c);
  o["key"] = issued_json(*issued);
  auto resp = json_response(201, meadow::to_json(o), "admin_customers");
  resp.set_header("cache-control", "no-store");
  return resp;
}

http::Response admin_customer_keys(const http::Request& r, Context& ctx, const std::string& customer) {
  json::object obj;
  if (!r.body.empty()) {
    auto parsed = parse_json_object(r.body, "key");
    if (!parsed.ok()) return problem(parsed.error());
    obj = std::move(parsed).value();
  }
  auto key = key_from_json(obj);
  if (!key.ok()) return problem(key.error());
  auto issued = issue_key(ctx.store.catalog(), customer, *key, ctx.clock.now_ms());
  if (!issued.ok()) return problem(issued.error());
  auto resp = json_response(201, meadow::to_json(issued_json(*issued)), "admin_keys");
  resp.set_header("cache-control", "no-store");
  return resp;
}

http::Response admin_key_revoke(const http::Request&, Context& ctx, const std::string& key_id) {
  auto st = ctx.store.catalog().revoke_api_key(key_id, ctx.clock.now_ms());
  if (!st.ok()) return problem(st.error());
  ctx.log.info("api", "API key " + key_id + " revoked");
  return json_response(200, meadow::to_json(json::object{{"id", key_id}, {"revoked", true}}), "admin_keys");
}

}  // namespace meadow::coordinator::api
