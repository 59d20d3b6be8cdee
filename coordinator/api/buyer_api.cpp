// The buyer API: jobs and datasets for customers holding an API key.
//
// Every request names its key as `Authorization: Bearer <key>`. A customer sees only its
// own jobs and datasets: another customer's answer 404, exactly as a missing one, so ids
// reveal nothing. An admin key acts for the operator and sees everything.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/json.h"
#include "common/text.h"
#include "common/zstd.h"
#include "coordinator/api/context.h"
#include "coordinator/api/customers.h"
#include "coordinator/api/problem.h"
#include "coordinator/datasets/shard_file.h"
#include "coordinator/store/job_codec.h"

namespace meadow::coordinator::api {
namespace json = boost::json;

bool RateLimiter::admit(const std::string& key_id, std::int64_t rate_per_minute, std::int64_t now_ms,
                        std::int64_t& retry_after_s) {
  const double rate_per_ms = static_cast<double>(rate_per_minute) / 60'000.0;
  const double burst = std::max(5.0, static_cast<double>(rate_per_minute) / 10.0);
  std::lock_guard lock(mu_);
  if (buckets_.size() > 100'000) buckets_.clear();  // bounded; forgetting only grants a fresh burst
  auto [it, fresh] = buckets_.try_emplace(key_id, Bucket{burst, now_ms});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(std::max<std::int64_t>(0, now_ms - b.last_ms)) * rate_per_ms);
    b.last_ms = now_ms;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate_per_ms / 1000.0)));
  return false;
}

namespace {

// Who is asking: a customer's key, or an admin key (customer empty: the operator).
struct Caller {
  std::string customer_id;  // "" for the operator
  ApiKey key;
  bool admin = false;
};

constexpr int kMaxPageSize = 1000;
constexpr int kMaxStreamRecords = 10'000;
constexpr std::size_t kMaxStreamBytes = std::size_t{64} << 20;

Result<Caller> authenticate(const http::Request& r, Context& ctx, unsigned scope) {
  std::optional<std::string_view> secret = bearer_credential(r);
  if (!secret) {
    return make_error(ErrorKind::unauthenticated, "no-api-key",
                      "send your API key as 'Authorization: Bearer <key>'; an operator makes one with "
                      "'meadow-coordinator customer add'");
  }
  Caller c;
  MEADOW_ASSIGN(auto key, ctx.store.catalog().find_api_key(hash_api_key(*secret)));
  if (key) {
    c.customer_id = key->customer_id;
    c.key = std::move(*key);
  } else {
    MEADOW_ASSIGN(auto admin, ctx.store.find_admin_key(hash_admin_key(*secret)));
    if (!admin) return make_error(ErrorKind::unauthenticated, "bad-api-key", "the API key is not known or was revoked");
    c.admin = true;
    c.key.id = *admin;
    c.key.scopes = kScopeRead | kScopeSubmit;
    return c;  // operators are not rate limited
  }
  if ((c.key.scopes & scope) == 0) {
    return make_error(ErrorKind::forbidden, "missing-scope",
                      "this key lacks the '" + scopes_text(scope) + "' scope (it has '" + scopes_text(c.key.scopes) + "')");
  }
  return c;
}

// 429 with Retry-After when the key is over its rate.
std::optional<http::Response> over_rate(const Caller& c, Context& ctx) {
  if (c.admin) return std::nullopt;
  std::int64_t retry = 0;
  if (ctx.rate_limiter.admit(c.key.id, c.key.rate_per_minute, ctx.clock.now_ms(), retry)) return std::nullopt;
  auto resp = problem(make_error(ErrorKind::rate_limited, "rate-limited",
                                 "this key may make " + std::to_string(c.key.rate_per_minute) +
                                     " requests a minute; retry in " + std::to_string(retry) + " s"));
  resp.set_header("retry-after", std::to_string(retry));
  return resp;
}

Result<std::int64_t> int_param(const http::Request& r, std::string_view name, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) {
  auto v = r.query_param(name);
  if (!v) return fallback;
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || out < min || out > max) {
    return make_error(ErrorKind::invalid, "bad-parameter",
                      "query parameter '" + std::string(name) + "' must be an integer from " + std::to_string(min) +
                          " to " + std::to_string(max) + ", not '" + v->substr(0, 64) + "'");
  }
  return out;
}

Error unknown_job(std::string_view id) {
  return make_error(ErrorKind::not_found, "unknown-job", "there is no job '" + std::string(id) + "'");
}
Error unknown_dataset(std::string_view id) {
  return make_error(ErrorKind::not_found, "unknown-dataset", "there is no dataset '" + std::string(id) + "'");
}

// The caller's job, or 404 whether it is missing or someone else's.
Result<Job> own_job(const Caller& c, Context& ctx, std::string_view id_text) {
  std::int64_t id = 0;
  if (!parse_id(id_text, id)) return unknown_job(id_text);
  auto job = ctx.store.get_job(id);
  if (!job.ok()) {
    if (job.error().kind == ErrorKind::not_found) return unknown_job(id_text);
    return std::move(job).error();
  }
  if (!c.admin && job->spec.owner != c.customer_id) return unknown_job(id_text);
  return std::move(job).value();
}

Result<DatasetSummary> own_dataset(const Caller& c, Context& ctx, std::string_view id_text) {
  std::int64_t id = 0;
  if (!parse_id(id_text, id)) return unknown_dataset(id_text);
  auto d = ctx.store.catalog().dataset(id);
  if (!d.ok()) {
    if (d.error().kind == ErrorKind::not_found) return unknown_dataset(id_text);
    return std::move(d).error();
  }
  if (!c.admin && d->owner != c.customer_id) return unknown_dataset(id_text);
  return std::move(d).value();
}

// --- jobs

json::object progress_json(const Job& job, Context& ctx) {
  const TaskCounts& n = job.counts;
  const std::int64_t pending = n.queued + n.leased;
  const std::int64_t finished = n.done + n.skipped + n.dead;
  json::object p{{"done", n.done},           {"failed", n.skipped + n.dead}, {"skipped", n.skipped},
                 {"dead_lettered", n.dead}, {"pending", pending},           {"cancelled", n.cancelled},
                 {"total", n.total()}};
  // Time left at the rate so far; unknown until something finished.
  const std::int64_t elapsed = std::max<std::int64_t>(1, ctx.clock.now_ms() - job.created_ms);
  if (pending == 0) {
    p["eta_ms"] = 0;
  } else if (finished > 0 && job.state == JobState::active) {
    p["eta_ms"] = static_cast<std::int64_t>(static_cast<double>(pending) * static_cast<double>(elapsed) /
                                            static_cast<double>(finished));
  } else {
    p["eta_ms"] = nullptr;
  }
  return p;
}

http::Response job_view(const Job& job, Context& ctx, int status) {
  json::object o = to_json(job);
  o["progress"] = progress_json(job, ctx);
  if (job.counts.dead > 0) {
    json::array dead;
    auto list = ctx.store.dead_tasks(job.id, 100);
    if (list.ok()) {
      for (const auto& d : *list) {
        json::array reasons;
        for (const auto& f : d.failures) reasons.push_back(json::object{{"attempt", f.attempt}, {"reason", f.reason}});
        dead.push_back(json::object{{"url", d.task.url}, {"attempts", d.task.attempts}, {"failures", std::move(reasons)}});
      }
    }
    o["dead_letters"] = std::move(dead);
  }
  auto resp = json_response(status, meadow::to_json(o), "buyer_job");
  if (status == 201) resp.set_header("location", "/v1/jobs/" + std::to_string(job.id));
  return resp;
}

// Pages a job may fetch: its seeds, or its page budget when that is larger.
std::int64_t planned_pages(const JobSpec& s) {
  return std::max<std::int64_t>(static_cast<std::int64_t>(s.urls.size()), s.max_pages);
}

Status check_quota(const Caller& c, Context& ctx, const JobSpec& spec) {
  if (c.admin) return {};
  MEADOW_ASSIGN(Customer cust, ctx.store.catalog().get_customer(c.customer_id));
  MEADOW_ASSIGN(auto jobs, ctx.store.list_jobs(c.customer_id));
  std::int64_t active = 0, pages = 0;
  for (const auto& j : jobs) {
    // A running job holds its whole page budget; a finished one only the pages it had.
    const bool running = j.state == JobState::active || j.state == JobState::paused;
    active += running ? 1 : 0;
    pages += running ? std::max(j.counts.total(), planned_pages(j.spec)) : j.counts.total();
  }
  if (active >= cust.max_active_jobs) {
    return make_error(ErrorKind::forbidden, "over-quota",
                      "your account may run " + std::to_string(cust.max_active_jobs) +
                          " jobs at once and has " + std::to_string(active) + "; wait for one to finish or cancel one");
  }
  const std::int64_t want = planned_pages(spec);
  if (pages + want > cust.max_pages) {
    return make_error(ErrorKind::forbidden, "over-quota",
                      "this job may fetch up to " + std::to_string(want) + " pages but your account has " +
                          std::to_string(std::max<std::int64_t>(0, cust.max_pages - pages)) + " of its " +
                          std::to_string(cust.max_pages) + " pages left");
  }
  return {};
}

http::Response jobs_create(const http::Request& r, Context& ctx, const Caller& c) {
  auto obj = parse_json_object(r.body, "job");
  if (!obj.ok()) return problem(obj.error());
  obj->erase("owner");  // a buyer's job is always its own
  auto spec = job_spec_from_json(*obj);
  if (!spec.ok()) return problem(spec.error());
  spec->owner = c.customer_id;
  Result<std::int64_t> id = std::int64_t{0};
  {
    std::lock_guard quota_lock(ctx.quota_mu);
    auto quota = check_quota(c, ctx, *spec);
    if (!quota.ok()) return problem(quota.error());
    id = ctx.scheduler.create_job(std::move(spec).value());
  }
  if (!id.ok()) return problem(id.error());
  auto job = ctx.store.get_job(*id);
  if (!job.ok()) return problem(job.error());
  ctx.log.info("api", "job " + std::to_string(*id) + " '" + job->spec.name + "' submitted by " +
                          (c.admin ? std::string("the operator") : c.customer_id) + " with " +
                          std::to_string(job->counts.total()) + " tasks");
  if (ctx.notify_work) ctx.notify_work(static_cast<std::size_t>(job->counts.queued));
  return job_view(*job, ctx, 201);
}

http::Response jobs_list(Context& ctx, const Caller& c) {
  auto jobs = ctx.store.list_jobs(c.customer_id);
  if (!jobs.ok()) return problem(jobs.error());
  json::array arr;
  for (const auto& j : *jobs) {
    json::object o = to_json(j);
    o["progress"] = progress_json(j, ctx);
    arr.push_back(std::move(o));
  }
  return json_response(200, meadow::to_json(json::object{{"jobs", std::move(arr)}}), "buyer_jobs");
}

// --- datasets

json::object dataset_json(const DatasetSummary& d, const std::optional<Job>& job) {
  const std::string base = "/v1/datasets/" + std::to_string(d.job_id);
  json::object o{{"id", d.job_id},
                 {"job_id", d.job_id},
                 {"records", d.records},
                 {"duplicates_dropped", d.duplicates},
                 {"shards", d.shards},
                 {"sealed_records", d.sealed_records},
                 {"bytes", d.bytes},
                 {"created_ms", d.created_ms},
                 {"updated_ms", d.updated_ms},
                 {"manifest_url", base + "/manifest.json"},
                 {"card_url", base + "/README.md"},
                 {"records_url", base + "/records"}};
  if (job) {
    o["name"] = job->spec.name;
    o["job_state"] = to_string(job->state);
  }
  return o;
}

http::Response datasets_list(const http::Request& r, Context& ctx, const Caller& c) {
  DatasetQuery q;
  q.owner = c.admin ? "" : c.customer_id;
  if (q.owner.empty() && !c.admin) return problem(make_error(ErrorKind::internal, "internal", "caller without owner"));
  auto limit = int_param(r, "limit", 50, 1, kMaxPageSize);
  auto job = int_param(r, "job", 0, 0, INT64_MAX);
  auto since = int_param(r, "since_ms", 0, 0, INT64_MAX);
  auto until = int_param(r, "until_ms", INT64_MAX, 0, INT64_MAX);
  auto token = int_param(r, "page_token", INT64_MAX, 1, INT64_MAX);
  for (const auto* p : {&limit, &job, &since, &until, &token}) {
    if (!p->ok()) return problem(p->error());
  }
  q.limit = static_cast<int>(*limit);
  if (*job > 0) q.job_id = *job;
  q.since_ms = *since;
  q.until_ms = *until;
  q.before_job = *token;
  auto list = ctx.store.catalog().datasets(q);
  if (!list.ok()) return problem(list.error());
  json::array arr;
  for (const auto& d : *list) {
    auto j = ctx.store.get_job(d.job_id);
    arr.push_back(dataset_json(d, j.ok() ? std::optional<Job>(*j) : std::nullopt));
  }
  json::object body{{"datasets", std::move(arr)}};
  if (static_cast<int>(list->size()) == q.limit) body["next_page_token"] = std::to_string(list->back().job_id);
  return json_response(200, meadow::to_json(body), "datasets");
}

// "bytes=a-b", "bytes=a-", "bytes=-n" over a file of `size` bytes. nullopt: no usable Range
// (absent, malformed or several ranges: the whole file is sent, as RFC 9110 allows).
// `unsatisfiable` is set when the range is well formed but starts past the end.
struct ByteRange {
  std::uint64_t first = 0, last = 0;
};
std::optional<ByteRange> parse_range(const std::string* header, std::uint64_t size, bool& unsatisfiable) {
  unsatisfiable = false;
  if (!header) return std::nullopt;
  std::string_view h = text::trim(*header);
  if (h.substr(0, 6) != "bytes=") return std::nullopt;
  h.remove_prefix(6);
  const std::size_t dash = h.find('-');
  if (dash == std::string_view::npos || h.find(',') != std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s, std::uint64_t& out) {
    s = text::trim(s);
    if (s.empty() || s.size() > 19) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  const std::string_view a = text::trim(h.substr(0, dash)), b = text::trim(h.substr(dash + 1));
  std::uint64_t first = 0, last = 0;
  if (a.empty()) {  // the last n bytes
    if (!number(b, last)) return std::nullopt;
    if (last == 0 || size == 0) {
      unsatisfiable = true;
      return std::nullopt;
    }
    return ByteRange{size - std::min(last, size), size - 1};
  }
  if (!number(a, first)) return std::nullopt;
  if (b.empty()) {
    last = UINT64_MAX;
  } else if (!number(b, last) || last < first) {
    return std::nullopt;
  }
  if (first >= size) {
    unsatisfiable = true;
    return std::nullopt;
  }
  return ByteRange{first, std::min(last, size - 1)};
}

// Serves one dataset file with ETag, If-None-Match, Range/If-Range and the SHA-256 header.
http::Response serve_file(const http::Request& r, const std::string& path, const std::string& sha256_hex,
                          const char* content_type) {
  auto resp = json_response(200, "", "dataset_file");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return problem(make_error(ErrorKind::not_found, "no-such-file", "the file is not available"));
  auto body = std::make_shared<http::FileBody>();
  body->fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return problem(make_error(ErrorKind::io, "io", "the file cannot be read"));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::string sha = sha256_hex;
  if (sha.empty()) {  // small files (manifest, card) are hashed on the way
    std::string bytes(size, '\0');
    if (::pread(fd, bytes.data(), size, 0) != static_cast<ssize_t>(size)) {
      return problem(make_error(ErrorKind::io, "io", "the file cannot be read"));
    }
    sha = crypto::sha256_hex(bytes);
  }
  const std::string etag = "\"" + sha + "\"";
  resp.content_type = content_type;
  resp.set_header("etag", etag);
  resp.set_header("accept-ranges", "bytes");
  resp.set_header("meadow-sha256", sha);
  resp.set_header("cache-control", "private, max-age=0, must-revalidate");
  if (const std::string* inm = r.header("if-none-match")) {
    if (*inm == etag || *inm == "*" || inm->find(etag) != std::string::npos) {
      resp.status = 304;
      return resp;
    }
  }
  bool unsatisfiable = false;
  std::optional<ByteRange> range = parse_range(r.header("range"), size, unsatisfiable);
  if (const std::string* if_range = r.header("if-range"); if_range && *if_range != etag) {
    range.reset();  // the buyer's copy is of other bytes: send the whole file
    unsatisfiable = false;
  }
  if (unsatisfiable) {
    auto p = problem(make_error(ErrorKind::invalid, "range-not-satisfiable",
                                "the range starts past the end of the file (" + std::to_string(size) + " bytes)"));
    p.set_header("content-range", "bytes */" + std::to_string(size));
    return p;
  }
  body->offset = range ? range->first : 0;
  body->length = range ? range->last - range->first + 1 : size;
  if (range) {
    resp.status = 206;
    resp.set_header("content-range", "bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) + "/" +
                                         std::to_string(size));
  }
  resp.file = std::move(body);
  return resp;
}

http::Response dataset_file(const http::Request& r, Context& ctx, const DatasetSummary& d, std::string_view name) {
  const std::string dir = datasets::job_dir(ctx.datasets_dir, d.job_id);
  if (name == "manifest.json") return serve_file(r, dir + "/manifest.json", "", "application/json");
  if (name == "README.md") return serve_file(r, dir + "/README.md", "", "text/markdown; charset=utf-8");
  auto shards = ctx.store.catalog().shards(d.job_id);
  if (!shards.ok()) return problem(shards.error());
  for (const auto& s : *shards) {
    if (s.name() == name) return serve_file(r, dir + "/" + s.name(), s.sha256, "application/zstd");
    if (s.captures_records > 0 && s.captures_name() == name)
      return serve_file(r, dir + "/" + s.captures_name(), s.captures_sha256, "application/zstd");
  }
  return problem(make_error(ErrorKind::not_found, "unknown-shard",
                            "dataset " + std::to_string(d.job_id) + " has no shard '" + std::string(name.substr(0, 128)) +
                                "'; the manifest lists its shards"));
}

http::Response records_since(const http::Request& r, Context& ctx, const DatasetSummary& d) {
  auto since = int_param(r, "since", 0, 0, INT64_MAX);
  if (!since.ok()) return problem(since.error());
  auto limit = int_param(r, "limit", 1000, 1, kMaxStreamRecords);
  if (!limit.ok()) return problem(limit.error());
  auto recs = ctx.store.catalog().records_since(d.job_id, *since, static_cast<int>(*limit));
  if (!recs.ok()) return problem(recs.error());
  std::string out;
  zstd::Compressor z(3);
  std::int64_t cursor = *since, count = 0;
  std::size_t raw = 0;
  for (const auto& rec : *recs) {
    if (raw > 0 && raw + rec.record_json.size() > kMaxStreamBytes) break;
    z.write(rec.record_json, out);
    z.write("\n", out);
    raw += rec.record_json.size() + 1;
    cursor = rec.seq;
    ++count;
  }
  z.end_frame(out);
  auto resp = json_response(200, std::move(out), "dataset_records");
  resp.content_type = "application/zstd";
  resp.set_header("meadow-next-cursor", std::to_string(cursor));
  resp.set_header("meadow-records", std::to_string(count));
  return resp;
}

}  // namespace

http::Response buyer_route(const http::Request& r, Context& ctx, const std::vector<std::string_view>& parts) {
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  const bool jobs = parts[1] == "jobs";
  const bool submits = jobs && post;
  auto caller = authenticate(r, ctx, submits ? kScopeSubmit : kScopeRead);
  if (!caller.ok()) return problem(caller.error());
  if (auto limited = over_rate(*caller, ctx)) return *limited;
  const Caller& c = *caller;
  const std::size_t n = parts.size();

  if (jobs) {
    if (n == 2) {
      if (post) return jobs_create(r, ctx, c);
      if (get) return jobs_list(ctx, c);
      return problem(method_not_allowed(r));
    }
    auto job = own_job(c, ctx, parts[2]);
    if (!job.ok()) return problem(job.error());
    if (n == 3) return get ? job_view(*job, ctx, 200) : problem(method_not_allowed(r));
    if (n == 4 && parts[3] == "cancel") {
      if (!post) return problem(method_not_allowed(r));
      if (!(c.key.scopes & kScopeSubmit)) {
        return problem(make_error(ErrorKind::forbidden, "missing-scope", "cancelling a job needs the 'submit' scope"));
      }
      auto st = ctx.store.set_job_state(job->id, JobState::cancelled, ctx.clock.now_ms());
      if (!st.ok()) return problem(st.error());
      auto now = ctx.store.get_job(job->id);
      if (!now.ok()) return problem(now.error());
      if (ctx.results_accepted) ctx.results_accepted();  // the last shard may seal now
      return job_view(*now, ctx, 200);
    }
  } else {
    if (!get) return problem(method_not_allowed(r));
    if (n == 2) return datasets_list(r, ctx, c);
    auto d = own_dataset(c, ctx, parts[2]);
    if (!d.ok()) return problem(d.error());
    if (n == 3) {
      auto j = ctx.store.get_job(d->job_id);
      return json_response(200, meadow::to_json(dataset_json(*d, j.ok() ? std::optional<Job>(*j) : std::nullopt)),
                           "dataset");
    }
    if (n == 4 && (parts[3] == "manifest.json" || parts[3] == "README.md")) return dataset_file(r, ctx, *d, parts[3]);
    if (n == 4 && parts[3] == "records") return records_since(r, ctx, *d);
    if (n == 5 && parts[3] == "shards") return dataset_file(r, ctx, *d, parts[4]);
  }
  return problem(make_error(ErrorKind::not_found, "no-such-endpoint",
                            "there is no endpoint " + r.method + " " + r.path.substr(0, 256) + "; see schemas/openapi.yaml"));
}

}  // namespace meadow::coordinator::api
