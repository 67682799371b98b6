#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/trace.h"
#include "sim/world.h"
#include "test_world.h"

namespace {
// A run with plenty of events of several kinds.
std::uint64_t busy_run(sim::World& world) {
  auto& ctx = world.main_context();
  for (int i = 0; i < 200; ++i) {
    ctx.timer_add(static_cast<std::uint64_t>(i % 7) * 10, "tick", [] {});
    ctx.bh_schedule("bh", [] {});
  }
  world.run();
  return world.trace().fingerprint();
}
}  // namespace

TEST_CASE("the ring keeps the most recent events, and the fingerprint covers all of them") {
  sim::WorldConfig small = testing::config();
  small.trace_ring = 16;
  std::uint64_t ring_fp;
  std::uint64_t ring_last;
  {
    sim::World world(small);
    ring_fp = busy_run(world);
    REQUIRE(world.trace().kept().size() == 16);
    ring_last = world.trace().kept().back().index;
    CHECK(world.trace().kept().front().index == world.trace().count() - 16);
  }
  sim::WorldConfig all = testing::config();
  all.trace_all = true;
  sim::World world(all);
  CHECK(busy_run(world) == ring_fp);
  CHECK(world.trace().kept().size() == world.trace().count());
  CHECK(world.trace().kept().back().index == ring_last);
}

TEST_CASE("the fingerprint sees a change in any event") {
  sim::Trace a;
  sim::Trace b;
  sim::TraceEvent e;
  e.kind = sim::EventKind::kRequestBegin;
  e.b = 4096;
  a.record(e);
  e.b = 4097;
  b.record(e);
  CHECK(a.fingerprint() != b.fingerprint());
  sim::Trace c;
  sim::Trace d;
  e.label = c.intern("bdrv_co_preadv");
  c.record(e);
  d.intern("something else first");  // different intern order, same text
  e.label = d.intern("bdrv_co_preadv");
  d.record(e);
  CHECK(c.fingerprint() == d.fingerprint());
}

TEST_CASE("JSON Lines export: one object per event with named fields") {
  sim::World world(testing::config());
  std::ostringstream streamed;
  world.trace().stream_to(&streamed);
  auto body = []() -> sim::Task<void> { co_await sim::co_sleep_ns(5, "nap"); };
  world.spawn(world.main_context(), "sleeper", body());
  world.run();
  std::ostringstream kept;
  world.trace().write_jsonl(kept);
  CHECK(kept.str() == streamed.str());
  std::istringstream lines(streamed.str());
  std::string line;
  std::uint64_t n = 0;
  bool saw_wait = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["i"] == n);
    ++n;
    if (j["ev"] == "wait_begin") {
      saw_wait = true;
      CHECK(j["reason"] == "nap");
      CHECK(j["co"] == 1);
    }
  }
  CHECK(n == world.trace().count());
  CHECK(saw_wait);
}

TEST_CASE("TraceLabel: interned once per trace, with the id intern gives, and again for a new trace") {
  sim::TraceLabel label("a label");
  sim::Trace first;
  first.intern("something before");
  const std::uint32_t id = label.id(first);
  CHECK(id == first.intern("a label"));
  CHECK(first.text(id) == "a label");
  CHECK(label.id(first) == id);
  sim::Trace second;  // ids differ between traces: the label must not reuse the first one's
  second.intern("x");
  second.intern("y");
  second.intern("z");
  const std::uint32_t id2 = label.id(second);
  CHECK(id2 == second.intern("a label"));
  CHECK(second.text(id2) == "a label");
  CHECK(id2 != id);
  CHECK(second.serial() != first.serial());
}

TEST_CASE("the fingerprint log: checkpoints every 2^k events, digests of the first N, kind-filtered observers") {
  sim::World world(testing::config());
  sim::Trace& trace = world.trace();
  trace.log_fingerprints(8, 20);
  std::vector<std::uint64_t> seen;  // fingerprints after each event, by an observer of every kind
  std::uint64_t timers = 0;
  trace.add_observer([&](const sim::Trace& t, const sim::TraceEvent&) { seen.push_back(t.fingerprint()); });
  trace.add_observer([&](const sim::Trace&, const sim::TraceEvent& e) { timers += e.kind == sim::EventKind::kTimerFire; },
                     sim::Trace::kind_bit(sim::EventKind::kTimerFire));
  std::uint64_t fired = 0;
  for (int i = 0; i < 30; ++i) world.main_context().timer_add(static_cast<std::uint64_t>(i), "t", [&] { ++fired; });
  for (int i = 0; i < 30; ++i) world.main_context().bh_schedule("b", [] {});
  world.run();
  REQUIRE(seen.size() == trace.count());
  REQUIRE(trace.count() >= 60);
  CHECK(timers == fired);
  CHECK(timers == 30);
  REQUIRE(trace.checkpoints().size() == trace.count() / 8);
  for (std::size_t k = 0; k < trace.checkpoints().size(); ++k) CHECK(trace.checkpoints()[k] == seen[8 * k + 7]);
  REQUIRE(trace.digests().size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK(trace.digests()[i] == static_cast<std::uint16_t>(seen[i]));
}
