// The loop's own scheduling: what runs in which turn. Transfers are tested through the
// fetcher against real loopback servers (fetcher_test.cpp).
#include "client/core/http_loop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace meadow::client {
namespace {

TEST(HttpLoop, TurnEndWorkRunsLastInItsTurnAndOnceOnly) {
  HttpLoop loop;
  std::string order;
  loop.post([&] {
    order += "posted ";
    loop.at_turn_end([&] {
      order += "end ";
      loop.at_turn_end([&] { order += "then-end "; });  // same turn, after
    });
  });
  loop.after(0, [&] { order += "timer "; });
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end then-end ");
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end then-end ");
  // Queued outside a turn: the next turn runs it and does not wait.
  loop.at_turn_end([&] { order += "outside "; });
  const auto t0 = std::chrono::steady_clock::now();
  loop.run_once(10'000);
  EXPECT_EQ(order, "timer posted end then-end outside ");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace meadow::client
