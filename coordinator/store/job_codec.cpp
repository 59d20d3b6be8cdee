#include "coordinator/store/job_codec.h"

#include "common/json.h"
#include "common/selector.h"

namespace meadow::coordinator {
namespace json = boost::json;

json::object to_json(const JobSpec& s, bool with_urls) {
  json::object o;
  o["name"] = s.name;
  if (with_urls) {
    json::array urls;
    urls.reserve(s.urls.size());
    for (const auto& u : s.urls) urls.emplace_back(u);
    o["urls"] = std::move(urls);
  }
  o["scope"] = to_string(s.scope);
  o["max_depth"] = s.max_depth;
  o["max_pages"] = s.max_pages;
  o["priority"] = s.priority;
  o["site_rate"] = s.site_rate;
  o["max_attempts"] = s.max_attempts;
  o["replication_rate"] = s.replication_rate;
  o["fields"] = protocol::to_json_array(s.fields);
  o["captures"] = s.captures;
  if (!s.owner.empty()) o["owner"] = s.owner;
  return o;
}

json::object to_json(const TaskCounts& c) {
  return json::object{{"queued", c.queued},     {"leased", c.leased}, {"done", c.done},
                      {"skipped", c.skipped},   {"dead", c.dead},     {"cancelled", c.cancelled},
                      {"total", c.total()}};
}

json::object to_json(const Job& j) {
  json::object o{{"id", j.id},
                 {"state", to_string(j.state)},
                 {"created_ms", j.created_ms},
                 {"updated_ms", j.updated_ms},
                 {"spec", to_json(j.spec, false)},
                 {"counts", to_json(j.counts)}};
  return o;
}

Result<JobSpec> job_spec_from_json(const json::object& obj) {
  JsonFields f(obj, "job");
  JobSpec s;
  s.name = f.string("name", 128);
  s.urls = f.strings_or_empty("urls", kMaxJobUrls, 8192);
  std::string scope = f.string_or("scope", "listed", 16);
  s.max_depth = static_cast<int>(f.integer_or("max_depth", 0, 16, 0));
  s.max_pages = f.integer_or("max_pages", 0, 10'000'000, 0);
  s.priority = static_cast<int>(f.integer_or("priority", 1, 1000, 1));
  s.site_rate = f.number_or("site_rate", 0.01, 100.0, 1.0);
  s.max_attempts = static_cast<int>(f.integer_or("max_attempts", 1, 20, 3));
  s.replication_rate = f.number_or("replication_rate", 0.0, 1.0, 0.0);
  const auto& fields = f.array_or_empty("fields", 64);
  s.captures = f.boolean_or("captures", false);
  s.owner = f.string_or("owner", "", 128);
  if (f.ok() && s.name.empty()) f.fail("name", "must not be empty");
  if (f.ok() && !parse_crawl_scope(scope, s.scope)) f.fail("scope", "must be \"listed\" or \"site\"");
  if (!f.ok()) return f.error();
  MEADOW_ASSIGN(s.fields, protocol::parse_field_selectors(fields));
  MEADOW_TRY(extract::check_field_selectors(s.fields));
  return s;
}

}  // namespace meadow::coordinator
