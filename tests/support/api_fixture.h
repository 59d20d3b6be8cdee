// The coordinator's REST handlers with a real SQLite store and scheduler, called directly
// (no sockets), for tests of one API area each.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "coordinator/api/context.h"
#include "support/test_env.h"

namespace meadow::coordinator {

class ApiFixture : public ::testing::Test {
 protected:
  static constexpr const char* kAdminKey = "mdw_admin_test_key_for_api";

  // Opens the store in a fresh folder, a scheduler with a generous politeness budget, the
  // handler context, and registers kAdminKey.
  void SetUp() override;

  http::Response call(const http::Request& r) { return api::handle(r, *ctx_); }
  // A request with kAdminKey as its Bearer credential and a JSON content type.
  http::Request admin(const std::string& method, const std::string& path, std::string body = "") const;

  // Status, content type and stable code of a problem answer; the detail must say something.
  static void expect_problem(const http::Response& r, int status, const std::string& code);

  testing::TempDir dir_;
  ManualClock clock_;
  crypto::KeyPair coord_key_ = crypto::KeyPair::generate();
  Metrics metrics_;
  Logger log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> sched_;
  std::unique_ptr<api::Context> ctx_;
};

}  // namespace meadow::coordinator
