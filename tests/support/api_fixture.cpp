#include "support/api_fixture.h"

#include "common/json.h"

namespace meadow::coordinator {

void ApiFixture::SetUp() {
  auto s = open_sqlite_store(SqliteOptions{dir_.file("api.db")});
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  SchedulerOptions opt;
  opt.site_rate = 1000;
  opt.site_burst = 1000;
  sched_ = std::make_unique<Scheduler>(*store_, clock_, opt);
  log_.set_level(LogLevel::off);
  ctx_ = std::make_unique<api::Context>(*store_, *sched_, clock_, coord_key_, metrics_, log_);
  ASSERT_TRUE(store_->add_admin_key("ak", api::hash_admin_key(kAdminKey), "test", clock_.now_ms()).ok());
}

http::Request ApiFixture::admin(const std::string& method, const std::string& path, std::string body) const {
  http::Request r;
  r.method = method;
  r.path = path;
  r.target = path;
  r.body = std::move(body);
  r.headers = {{"authorization", std::string("Bearer ") + kAdminKey}, {"content-type", "application/json"}};
  return r;
}

void ApiFixture::expect_problem(const http::Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto body = parse_json_object(r.body, "problem");
  ASSERT_TRUE(body.ok()) << r.body;
  EXPECT_EQ(std::string(body->at("code").as_string()), code) << r.body;
  EXPECT_EQ(body->at("status").as_int64(), status);
  EXPECT_GT(body->at("detail").as_string().size(), 10u) << r.body;
}

}  // namespace meadow::coordinator
