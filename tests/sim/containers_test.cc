// The runtime's own containers: the ready queues' ring buffer and the waiter
// lists threaded through coroutines.
#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <vector>

#include "sim/co_queue.h"
#include "sim/ring_queue.h"
#include "sim/world.h"
#include "test_world.h"

TEST_CASE("RingQueue: behaves as a deque under pushes, pops and takes from the middle, across growth and wrap") {
  sim::RingQueue<std::unique_ptr<int>> ring;  // move-only, owning: leaks and double frees show under ASan
  std::deque<int> model;
  sim::Rng rng(11);
  int next = 0;
  std::size_t peak = 0;
  for (int step = 0; step < 20000; ++step) {
    const std::uint64_t r = rng.below(10);
    if (r < 5 || model.empty()) {
      ring.push_back(std::make_unique<int>(next));
      model.push_back(next++);
    } else if (r < 8) {
      CHECK(*ring.take(0) == model.front());
      model.pop_front();
    } else {
      const std::size_t i = rng.below(model.size());
      CHECK(*ring.take(i) == model[i]);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
    }
    peak = std::max(peak, model.size());
    REQUIRE(ring.size() == model.size());
    if (step % 97 == 0) {
      for (std::size_t i = 0; i < model.size(); ++i) REQUIRE(*ring[i] == model[i]);
    }
  }
  CHECK(peak > 64);  // it grew past its first capacity several times
  ring.clear();
  CHECK(ring.empty());
  ring.push_back(std::make_unique<int>(7));
  CHECK(*ring[0] == 7);
}

TEST_CASE("RingQueue: clear destroys what it holds") {
  auto token = std::make_shared<int>(0);
  {
    sim::RingQueue<std::shared_ptr<int>> ring;
    for (int i = 0; i < 40; ++i) ring.push_back(token);
    CHECK(token.use_count() == 41);
    (void)ring.take(3);
    CHECK(token.use_count() == 40);
    ring.clear();
    CHECK(token.use_count() == 1);
    for (int i = 0; i < 5; ++i) ring.push_back(token);
  }
  CHECK(token.use_count() == 1);  // and so does its destructor
}

namespace {
sim::Task<void> wait_on(sim::CoQueue& q, std::vector<int>& woken, int id) {
  co_await q.wait(nullptr);
  woken.push_back(id);
}
sim::Task<void> wait_twice(sim::CoQueue& a, sim::CoQueue& b) {
  co_await a.wait(nullptr);
  co_await b.wait(nullptr);
}
}  // namespace

TEST_CASE("WaiterList: a queue keeps arrival order, and a coroutine may queue again once woken") {
  sim::World world(testing::config());
  sim::CoQueue q;
  std::vector<int> woken;
  for (int i = 0; i < 5; ++i) world.spawn(world.main_context(), "waiter", wait_on(q, woken, i));
  world.run_until([&] { return q.size() == 5; });
  CHECK(q.next());
  world.run_until([&] { return woken.size() == 1; });
  q.restart_all();
  world.run();
  CHECK(world.verdict().ok());
  CHECK(woken == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(q.empty());

  sim::CoQueue a;
  sim::CoQueue b;
  world.spawn(world.main_context(), "twice", wait_twice(a, b));
  world.run_until([&] { return a.size() == 1; });
  a.restart_all();
  world.run_until([&] { return b.size() == 1; });
  CHECK(a.empty());
  b.restart_all();
  world.run();
  CHECK(world.verdict().ok());
  CHECK(world.live_coroutines() == 0);
}
