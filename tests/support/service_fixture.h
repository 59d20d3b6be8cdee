// Runs a real coordinator Service in-process on a free loopback port for one test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "coordinator/service.h"
#include "support/http_client.h"
#include "support/test_env.h"

namespace meadow::coordinator {

class ServiceFixture : public ::testing::Test {
 protected:
  static constexpr const char* kAdminKey = "mdw_admin_fixture_key";

  void SetUp() override;
  void TearDown() override { stop(); }

  // Extra config lines applied before start (e.g. "lease_ms = 2000").
  virtual void configure(Config&) {}
  void stop();

  std::uint16_t port() const { return service_->port(); }
  Service& service() { return *service_; }
  const testing::TempDir& dir() const { return dir_; }
  std::int64_t now() const { return system_clock().now_ms(); }

  // Sends a signed node request as built by TestNode.
  static testing::TestHttpResponse send(testing::TestHttpClient& c, const http::Request& r);
  static testing::TestHttpResponse admin(testing::TestHttpClient& c, const std::string& method,
                                         const std::string& path, const std::string& body = "");

 private:
  testing::TempDir dir_;
  Logger log_{Logger::stderr_text_sink(), LogLevel::warn};
  std::unique_ptr<Service> service_;
  std::thread runner_;
};

}  // namespace meadow::coordinator
