#include "support/service_fixture.h"

#include "coordinator/api/context.h"

namespace meadow::coordinator {

void ServiceFixture::SetUp() {
  Config c;
  c.data_dir = dir_.file("data");
  c.server.port = 0;
  c.server.threads = 2;
  c.scheduler.site_rate = 1000;
  c.scheduler.site_burst = 1000;
  configure(c);
  auto svc = Service::start(c, system_clock(), log_);
  ASSERT_TRUE(svc.ok()) << svc.error().message;
  service_ = std::move(svc).value();
  ASSERT_TRUE(service_->store().add_admin_key("ak", api::hash_admin_key(kAdminKey), "fixture", now()).ok());
  runner_ = std::thread([s = service_.get()] { s->run(); });
}

void ServiceFixture::stop() {
  if (!service_) return;
  service_->shutdown();
  if (runner_.joinable()) runner_.join();
  service_.reset();
}

testing::TestHttpResponse ServiceFixture::send(testing::TestHttpClient& c, const http::Request& r) {
  auto resp = testing::send(c, r);
  EXPECT_TRUE(resp.ok()) << resp.error().message;
  return resp.ok() ? std::move(resp).value() : testing::TestHttpResponse{};
}

testing::TestHttpResponse ServiceFixture::admin(testing::TestHttpClient& c, const std::string& method,
                                                const std::string& path, const std::string& body) {
  auto resp = c.request(method, path, body,
                        {{"authorization", std::string("Bearer ") + kAdminKey}, {"content-type", "application/json"}});
  EXPECT_TRUE(resp.ok()) << resp.error().message;
  return resp.ok() ? std::move(resp).value() : testing::TestHttpResponse{};
}

}  // namespace meadow::coordinator
