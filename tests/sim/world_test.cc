#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sim/co_mutex.h"
#include "sim/world.h"
#include "common/programs.h"
#include "test_world.h"

using sim::World;

TEST_CASE("bottom halves run in scheduling order under fifo") {
  World world(testing::config());
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) world.main_context().bh_schedule("bh", [&order, i] { order.push_back(i); });
  world.run();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(world.verdict().ok());
  CHECK(world.steps() == 5);
}

TEST_CASE("timers fire in deadline order and advance virtual time exactly") {
  World world(testing::config());
  std::vector<std::pair<int, std::uint64_t>> fired;
  auto& ctx = world.main_context();
  for (const auto& timer : std::vector<std::pair<int, std::uint64_t>>{{1, 300}, {2, 100}, {3, 200}}) {
    const int id = timer.first;
    ctx.timer_add(timer.second, "t", [&, id] { fired.emplace_back(id, world.now_ns()); });
  }
  sim::TimerId cancelled = ctx.timer_add(150, "cancelled", [&] { fired.emplace_back(99, world.now_ns()); });
  CHECK(ctx.timer_cancel(cancelled));
  CHECK_FALSE(ctx.timer_cancel(cancelled));
  world.run();
  CHECK(fired == std::vector<std::pair<int, std::uint64_t>>{{2, 100}, {3, 200}, {1, 300}});
  CHECK(world.now_ns() == 300);
}

TEST_CASE("timers due at the same time are a choice point") {
  World world(testing::config());
  for (int i = 0; i < 3; ++i) world.main_context().timer_add(50, "t", [] {});
  world.run();
  // Three ready at once: choices of 3 and then 2 candidates.
  REQUIRE(world.tape().choices.size() == 2);
  CHECK(world.tape().choices[0].candidates == 3);
  CHECK(world.tape().choices[1].candidates == 2);
}

TEST_CASE("aio_poll is re-entrant and tracks its depth") {
  World world(testing::config());
  auto& ctx = world.main_context();
  bool flag = false;
  int depth_seen = 0;
  ctx.timer_add(1000, "set flag", [&] {
    depth_seen = ctx.poll_depth();
    flag = true;
  });
  ctx.bh_schedule("sync wrapper", [&] {
    // A callback polling until a later event happens, as BDRV_POLL_WHILE does.
    bool waited = world.poll_while(ctx, [&] { return !flag; });
    CHECK(waited);
  });
  world.run();
  CHECK(flag);
  CHECK(depth_seen == 1);
  CHECK(world.max_poll_depth() == 1);
  CHECK(world.now_ns() == 1000);
  CHECK(world.verdict().ok());
}

TEST_CASE("nested polls stack") {
  World world(testing::config());
  auto& ctx = world.main_context();
  int deepest = 0;
  std::function<void(int)> nest = [&](int level) {
    deepest = std::max(deepest, world.poll_depth());
    if (level == 0) return;
    bool done = false;
    ctx.bh_schedule("inner", [&, level] {
      nest(level - 1);
      done = true;
    });
    world.poll_while(ctx, [&] { return !done; });
  };
  ctx.bh_schedule("outer", [&] { nest(4); });
  world.run();
  CHECK(world.verdict().ok());
  CHECK(deepest == 4);
  CHECK(world.max_poll_depth() == 4);
}

namespace {
sim::Task<void> poll_inside(World& world) {
  world.poll(world.main_context(), false);
  co_return;
}
}  // namespace

TEST_CASE("polling from inside a coroutine is reported as a bug") {
  World world(testing::config());
  world.spawn(world.main_context(), "bad", poll_inside(world));
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(world.verdict().message.find("aio_poll(main) called from coroutine co#1 'bad'") != std::string::npos);
  CHECK(world.verdict().location.find("sim/world.cc") != std::string::npos);
}

TEST_CASE("external sources wait while disabled and the counter nests") {
  World world(testing::config());
  auto& ctx = world.main_context();
  bool ran = false;
  ctx.disable_external();
  ctx.disable_external();
  ctx.external_schedule("guest", [&] { ran = true; });
  ctx.timer_add(100, "enable once", [&] { ctx.enable_external(); });
  ctx.timer_add(200, "check", [&] { CHECK_FALSE(ran); });
  ctx.timer_add(300, "enable twice", [&] { ctx.enable_external(); });
  world.run();
  CHECK(ran);
  CHECK_FALSE(ctx.external_disabled());
}

TEST_CASE("enabling external sources more often than disabling is a bug") {
  World world(testing::config());
  world.main_context().bh_schedule("bad", [&] { world.main_context().enable_external(); });
  world.run();
  CHECK(world.verdict().kind == sim::Verdict::Kind::kInvariant);
}

namespace {
sim::Task<void> wait_once(std::vector<std::string>& log) {
  World& world = World::current();
  log.push_back("start in " + world.current_context().name());
  co_await world.suspend(sim::WaitInfo{"test", 0, 0, {}, 0});
  log.push_back("woken in " + world.current_context().name());
}
}  // namespace

TEST_CASE("a coroutine woken from another loop resumes in its own loop") {
  World world(testing::config());
  auto& io = world.new_context("iothread0");
  std::vector<std::string> log;
  sim::Coroutine& co = world.spawn(io, "waiter", wait_once(log));
  world.main_context().timer_add(10, "waker", [&] {
    world.wake(co);
    // Queued on the iothread's loop, not entered from here.
    log.push_back("waker done");
  });
  world.run();
  CHECK(log == std::vector<std::string>{"start in iothread0", "waker done", "woken in iothread0"});
}

TEST_CASE("aio_co_schedule moves a coroutine to another loop") {
  World world(testing::config());
  auto& io = world.new_context("iothread0");
  std::vector<std::string> log;
  sim::Coroutine& co = world.spawn(world.main_context(), "mover", wait_once(log));
  world.main_context().timer_add(10, "mover", [&] { world.schedule(io, co); });
  world.run();
  CHECK(log == std::vector<std::string>{"start in main", "woken in iothread0"});
}

TEST_CASE("while the main thread polls, an idle iothread's loop keeps running, and a kick ends the poll") {
  World world(testing::config());
  auto& io = world.new_context("iothread0");
  bool done = false;
  // The iothread's work ends with a kick of the main loop, as bdrv_wakeup's bottom half.
  io.timer_add(500, "iothread work", [&] {
    done = true;
    world.main_context().bh_schedule("kick", [] {});
  });
  int polls = 0;
  world.main_context().bh_schedule("main waits", [&] {
    world.poll_while(world.main_context(), [&] {
      ++polls;
      return !done;
    });
  });
  world.run();
  CHECK(world.verdict().ok());
  CHECK(done);
  // The iothread's timer alone did not end the main loop's poll; the kick did.
  CHECK(polls == 2);
}

TEST_CASE("a blocking poll returns only after progress of its own context: a lost kick hangs") {
  World world(testing::config());
  auto& io = world.new_context("iothread0");
  bool done = false;
  io.timer_add(500, "iothread work", [&] { done = true; });  // no kick
  world.main_context().bh_schedule("main waits", [&] { world.poll_while(world.main_context(), [&] { return !done; }); });
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kDeadlock);
  CHECK(done);  // the work was done: only the wake-up was missing
  CHECK(world.verdict().message.find("aio_poll(main, blocking) would wait forever") != std::string::npos);
}

TEST_CASE("a thread waiting in a nested poll is idle: a poll of another thread nested above it runs its loop") {
  // The iothread waits in a poll inside a bottom half (a drain in a
  // coroutine's bottom half); the main loop, run from that poll, waits in a
  // poll of its own for the iothread's second timer. A real iothread sits in
  // ppoll meanwhile and runs it; the simulator runs it from the main loop's
  // poll, and the iothread's poll returns once the stack unwinds to it.
  World world(testing::config());
  auto& io = world.new_context("iothread0");
  bool first = false, second = false, main_done = false, io_done = false;
  io.timer_add(500, "first", [&] { first = true; });
  io.timer_add(900, "second", [&] {
    second = true;
    world.main_context().bh_schedule("kick", [] {});
  });
  io.bh_schedule("iothread waits", [&] {
    world.poll_while(io, [&] { return !second; });
    io_done = true;
  });
  world.main_context().timer_add(100, "main waits", [&] {
    world.poll_while(world.main_context(), [&] { return !second; });
    main_done = true;
  });
  world.run();
  INFO(world.verdict().message);
  CHECK(world.verdict().ok());
  CHECK((main_done && io_done));
}

TEST_CASE("a thread whose poll's condition is false is not idle: a poll above it cannot run its loop") {
  // It would go on with its own code, which the single native stack cannot
  // run before the poll above it returns: the simulator's own deadlock.
  World stuck(testing::config());
  auto& io2 = stuck.new_context("iothread0");
  bool ready = false, later = false;
  io2.timer_add(500, "ready", [&] { ready = true; });
  io2.timer_add(900, "later", [&] {
    later = true;
    stuck.main_context().bh_schedule("kick", [] {});
  });
  io2.bh_schedule("iothread waits", [&] { stuck.poll_while(io2, [&] { return !ready; }); });
  stuck.main_context().timer_add(100, "main waits", [&] { stuck.poll_while(stuck.main_context(), [&] { return !later; }); });
  stuck.run();
  CHECK(ready);
  CHECK_FALSE(later);
  // Not the engine's deadlock: the verdict says the simulator could not go on.
  CHECK(stuck.verdict().kind == sim::Verdict::Kind::kSimLimit);
  CHECK(stuck.verdict().message.find("waits above iothread0") != std::string::npos);
}

TEST_CASE("spawn: ids, the current coroutine and a completion callback") {
  World world(testing::config());
  std::vector<sim::CoroutineId> seen;
  int done = 0;
  auto body = [](std::vector<sim::CoroutineId>& out) -> sim::Task<void> {
    out.push_back(World::current().current_coroutine()->id());
    co_return;
  };
  world.spawn(world.main_context(), "a", body(seen), [&] { ++done; });
  world.spawn(world.main_context(), "b", body(seen), [&] { ++done; });
  CHECK_FALSE(world.in_coroutine());
  world.run();
  CHECK(seen == std::vector<sim::CoroutineId>{1, 2});
  CHECK(done == 2);
  CHECK(world.live_coroutines() == 0);
}

TEST_CASE("enter_numbered: from a callback of its loop the coroutine runs at once, from a coroutine it is scheduled") {
  World world(testing::config());
  std::vector<std::string> order;
  auto body = [](std::vector<std::string>& out, std::string name) -> sim::Task<void> {
    out.push_back(name + " starts");
    co_await sim::co_sleep_ns(10, "sleep");
    out.push_back(name + " ends");
  };
  auto& ctx = world.main_context();
  ctx.bh_schedule("handler", [&] {
    world.enter_numbered(ctx, "req", 0, body(order, "req0"));
    order.push_back("handler goes on");
  });
  auto from_coroutine = [&]() -> sim::Task<void> {
    world.enter_numbered(ctx, "req", 1, body(order, "req1"));
    order.push_back("coroutine goes on");
    co_return;
  };
  world.spawn(ctx, "issuer", from_coroutine());
  world.run();
  REQUIRE(world.verdict().ok());
  CHECK(order == std::vector<std::string>{"req0 starts", "handler goes on", "coroutine goes on", "req1 starts",
                                          "req0 ends", "req1 ends"});
  CHECK(world.live_coroutines() == 0);
}

TEST_CASE("deadlock: a lock-order cycle is reported with each blocked coroutine and the cycle") {
  World world(testing::config());
  sim::CoMutex a("mutex A");
  sim::CoMutex b("mutex B");
  world.spawn(world.main_context(), "ab", testing::lock_two(a, b));
  world.spawn(world.main_context(), "ba", testing::lock_two(b, a));
  world.run();
  const sim::Verdict& v = world.verdict();
  REQUIRE(v.kind == sim::Verdict::Kind::kDeadlock);
  REQUIRE(v.details.size() == 3);
  CHECK(v.details[0] == "co#1 'ab' in main: waits for CoMutex on mutex B, held by co#2 'ba', since 100 ns");
  CHECK(v.details[1] == "co#2 'ba' in main: waits for CoMutex on mutex A, held by co#1 'ab', since 100 ns");
  CHECK(v.details[2] == "wait cycle: co#1 -> co#2 -> co#1");
}

TEST_CASE("deadlock: a nested blocking poll that can never make progress") {
  World world(testing::config());
  world.main_context().bh_schedule("poll forever", [&] { world.poll_while(world.main_context(), [] { return true; }); });
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kDeadlock);
  CHECK(world.verdict().message.find("aio_poll(main, blocking) would wait forever") != std::string::npos);
}

TEST_CASE("step budget: a livelock ends with a verdict") {
  sim::WorldConfig c = testing::config();
  c.step_budget = 1000;
  World world(c);
  std::function<void()> again = [&] { world.main_context().bh_schedule("again", again); };
  again();
  world.run();
  CHECK(world.verdict().kind == sim::Verdict::Kind::kStepBudget);
  CHECK(world.steps() == 1001);
}

TEST_CASE("time budget: a timer chain past the budget ends with a verdict") {
  sim::WorldConfig c = testing::config();
  c.time_budget_ns = 1'000'000;
  World world(c);
  std::function<void()> again = [&] { world.main_context().timer_add(world.now_ns() + 1000, "tick", again); };
  again();
  world.run();
  CHECK(world.verdict().kind == sim::Verdict::Kind::kTimeBudget);
  CHECK(world.now_ns() <= 1'000'000);
}

TEST_CASE("watchdog: polled every kWatchdogEvents events, its answer ends a livelock with wall-budget") {
  sim::WorldConfig c = testing::config();
  int polls = 0;
  // Stands in for the wall clock: trips on the third poll.
  c.watchdog = [&]() -> std::string { return ++polls == 3 ? "wall-clock budget of 1 s exceeded" : ""; };
  World world(c);
  std::function<void()> again = [&] { world.main_context().bh_schedule("again", again); };
  again();
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kWallBudget);
  CHECK(sim::verdict_kind_name(world.verdict().kind) == "wall-budget");
  CHECK(polls == 3);
  // One event per bottom half: the third poll comes with the 3 * 4096th event.
  CHECK(world.steps() == 3 * sim::kWatchdogEvents + 1);
  CHECK(world.verdict().message.rfind("wall-clock budget of 1 s exceeded after 12288 events (12289 dispatched)", 0) == 0);
}

TEST_CASE("watchdog: a step that issues I/O without end is stopped inside the step") {
  sim::WorldConfig c = testing::config();
  int polls = 0;
  c.watchdog = [&]() -> std::string { return ++polls == 2 ? "wall-clock budget of 1 s exceeded" : ""; };
  World world(c);
  std::uint64_t issued = 0;
  // One bottom half that never returns to the loop, issuing driver requests.
  world.main_context().bh_schedule("issue forever", [&] {
    for (;;) world.emit_ids(sim::EventKind::kDriverIssue, 0, ++issued, 0, 512, 0, 0, 0);
  });
  world.run();
  REQUIRE(world.verdict().kind == sim::Verdict::Kind::kWallBudget);
  CHECK(world.steps() == 1);
  CHECK(issued == 2 * sim::kWatchdogEvents - 1);  // the bottom half's own event counts too
}

TEST_CASE("watchdog: one that never trips leaves the run and its fingerprint unchanged") {
  const auto run = [](bool watched) {
    sim::WorldConfig c = testing::config();
    if (watched) c.watchdog = [] { return std::string(); };
    World world(c);
    int left = 20000;
    std::function<void()> again = [&] {
      if (--left > 0) world.main_context().bh_schedule("again", again);
    };
    again();
    world.run();
    CHECK(world.verdict().ok());
    return std::pair{world.steps(), world.trace().fingerprint()};
  };
  CHECK(run(true) == run(false));
}

TEST_CASE("an invariant failing in a callback ends the run with its location") {
  World world(testing::config());
  world.main_context().bh_schedule("bad", [] { SIM_ASSERT(1 + 1 == 3, "arithmetic is broken"); });
  bool later = false;
  world.main_context().timer_add(10, "later", [&] { later = true; });
  world.run();
  CHECK(world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(world.verdict().message == "arithmetic is broken (1 + 1 == 3)");
  CHECK(world.verdict().location.find("tests/sim/world_test.cc:") == 0);
  CHECK_FALSE(later);
}

TEST_CASE("only one World at a time") {
  World world(testing::config());
  CHECK_THROWS_AS(World(testing::config()), sim::InvariantViolation);
}

namespace {
sim::Task<void> delayed(std::uint64_t ns, std::uint64_t& woke_at) {
  co_await sim::co_delay_ns(ns, "delay");
  woke_at = sim::World::current().now_ns();
}
}  // namespace

TEST_CASE("co_delay_ns: sleeps for a positive delay, goes on without suspending for zero") {
  for (const std::uint64_t ns : {std::uint64_t{0}, std::uint64_t{25}}) {
    sim::World world(testing::config());
    std::uint64_t woke_at = 99;
    world.spawn(world.main_context(), "d", delayed(ns, woke_at));
    world.run();
    CHECK(world.verdict().ok());
    CHECK(woke_at == ns);
    std::uint64_t yields = 0;
    for (const sim::TraceEvent& e : world.trace().kept()) yields += e.kind == sim::EventKind::kCoYield ? 1 : 0;
    CHECK(yields == (ns == 0 ? 0 : 1));
  }
}
