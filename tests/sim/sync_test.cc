#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sim/co_mutex.h"
#include "sim/co_queue.h"
#include "sim/world.h"
#include "test_world.h"

using sim::World;

namespace {
sim::Task<void> take(sim::CoMutex& m, std::vector<int>& order, int id, std::uint64_t hold_ns) {
  co_await m.lock();
  order.push_back(id);
  if (hold_ns > 0) co_await sim::co_sleep_ns(hold_ns);
  m.unlock();
}
}  // namespace

TEST_CASE("CoMutex: waiters get the mutex in arrival order, handed off on unlock") {
  World world(testing::config());
  sim::CoMutex m("m");
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) world.spawn(world.main_context(), "taker", take(m, order, i, 10));
  // A newcomer arriving while the handed-off waiter has not run yet must queue.
  world.main_context().timer_add(10, "late", [&] { world.spawn(world.main_context(), "late", take(m, order, 9, 0)); });
  world.run();
  CHECK(world.verdict().ok());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 9});
  CHECK_FALSE(m.locked());
}

namespace {
sim::Task<void> unlock_foreign(sim::CoMutex& m) {
  m.unlock();
  co_return;
}
sim::Task<void> hold(sim::CoMutex& m) {
  co_await m.lock();
  co_await sim::co_sleep_ns(100);
  m.unlock();
}
}  // namespace

TEST_CASE("CoMutex: only the holder may unlock") {
  World world(testing::config());
  sim::CoMutex m("m");
  world.spawn(world.main_context(), "holder", hold(m));
  world.spawn(world.main_context(), "intruder", unlock_foreign(m));
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(world.verdict().message.find("unlocked by co#2 'intruder', not its holder") != std::string::npos);
}

namespace {
sim::Task<void> waiter(sim::CoQueue& q, sim::CoMutex& m, std::vector<std::string>& log, int id) {
  co_await m.lock();
  log.push_back("wait " + std::to_string(id));
  co_await q.wait(&m);
  // wait() gives the mutex back before returning.
  CHECK(m.holder() == World::current().current_coroutine()->id());
  log.push_back("woke " + std::to_string(id));
  m.unlock();
}
}  // namespace

TEST_CASE("CoQueue: wait releases and retakes the lock, and next wakes the oldest, and restart_all wakes all") {
  World world(testing::config());
  sim::CoQueue q;
  sim::CoMutex m("m");
  std::vector<std::string> log;
  for (int i = 0; i < 3; ++i) world.spawn(world.main_context(), "waiter", waiter(q, m, log, i));
  bool first_next = false;
  bool empty_next = true;
  world.main_context().timer_add(10, "next", [&] { first_next = q.next(); });
  world.main_context().timer_add(20, "all", [&] { q.restart_all(); });
  world.main_context().timer_add(30, "none", [&] { empty_next = q.next(); });
  world.run();
  CHECK(world.verdict().ok());
  CHECK(first_next);
  CHECK_FALSE(empty_next);
  CHECK(log == std::vector<std::string>{"wait 0", "wait 1", "wait 2", "woke 0", "woke 1", "woke 2"});
}

TEST_CASE("CoQueue: a waiter woken twice before it runs is a bug") {
  World world(testing::config());
  std::vector<std::string> log;
  sim::Coroutine& co = world.spawn(world.main_context(), "w", [](std::vector<std::string>& l) -> sim::Task<void> {
    co_await World::current().suspend(sim::WaitInfo{"test", 0, 0, {}, 0});
    l.push_back("ran");
  }(log));
  world.main_context().timer_add(10, "double wake", [&] {
    world.schedule(world.main_context(), co);
    world.schedule(world.main_context(), co);
  });
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(world.verdict().message.find("woken twice") != std::string::npos);
}
