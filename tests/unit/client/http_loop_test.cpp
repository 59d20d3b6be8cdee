// The loop's own scheduling: what runs in which turn. Transfers are tested through the
// fetcher against real loopback servers (fetcher_test.cpp).
#include "client/core/http_loop.h"

#include <gtest/gtest.h>

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
      loop.at_turn_end([&] { order += "next-end "; });
    });
  });
  loop.after(0, [&] { order += "timer "; });
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end ");
  loop.run_once(10'000);  // does not wait: turn-end work is queued
  EXPECT_EQ(order, "timer posted end next-end ");
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end next-end ");
}

}  // namespace
}  // namespace meadow::client
