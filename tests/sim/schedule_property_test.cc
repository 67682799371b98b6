// Properties of the scheduler over generated programs of spawns, yields, sleeps
// and mutex operations.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <set>
#include <string>
#include <vector>

#include "sim/co_mutex.h"
#include "sim/world.h"
#include "test_world.h"

namespace {

enum class Op { kYield, kSleep, kLock, kLockedYield };
struct Step {
  Op op;
  int arg;  // sleep ns / mutex index
};
using Program = std::vector<std::vector<Step>>;  // one step list per coroutine

constexpr int kMutexes = 2;

// A yield: go to the back of the ready queue (aio_co_schedule of self).
sim::Task<void> yield_now() {
  sim::World& w = sim::World::current();
  w.schedule(w.current_context(), *w.current_coroutine());
  co_await w.suspend(sim::WaitInfo{});
}

sim::Task<void> actor(const std::vector<Step>& steps, int id, std::vector<sim::CoMutex*>& mutexes,
                      std::vector<int>& log) {
  for (const Step& s : steps) {
    log.push_back(id);
    switch (s.op) {
      case Op::kYield:
        co_await yield_now();
        break;
      case Op::kSleep:
        co_await sim::co_sleep_ns(static_cast<std::uint64_t>(s.arg));
        break;
      case Op::kLock:
        co_await mutexes[static_cast<std::size_t>(s.arg)]->lock();
        mutexes[static_cast<std::size_t>(s.arg)]->unlock();
        break;
      case Op::kLockedYield:
        co_await mutexes[static_cast<std::size_t>(s.arg)]->lock();
        co_await yield_now();
        mutexes[static_cast<std::size_t>(s.arg)]->unlock();
        break;
    }
  }
}

struct Outcome {
  std::uint64_t fingerprint;
  std::vector<int> log;
  sim::ChoiceTape tape;
  bool ok;
  std::optional<std::string> divergence;
};

Outcome run_program(const Program& program, std::uint64_t seed, const char* strategy,
                    const sim::ChoiceTape& tape = {}) {
  sim::WorldConfig c = testing::config(seed, strategy);
  c.tape = tape;
  sim::World world(c);
  std::vector<std::unique_ptr<sim::CoMutex>> owned;
  std::vector<sim::CoMutex*> mutexes;
  for (int i = 0; i < kMutexes; ++i) {
    owned.push_back(std::make_unique<sim::CoMutex>("m" + std::to_string(i)));
    mutexes.push_back(owned.back().get());
  }
  std::vector<int> log;
  for (std::size_t i = 0; i < program.size(); ++i) {
    world.spawn(world.main_context(), "actor" + std::to_string(i), actor(program[i], static_cast<int>(i), mutexes, log));
  }
  world.run();
  return Outcome{world.trace().fingerprint(), log, world.tape(), world.verdict().ok(), world.strategy().divergence()};
}

rc::Gen<Step> gen_step() {
  return rc::gen::apply(
      [](int kind, int arg) {
        switch (kind) {
          case 0: return Step{Op::kYield, 0};
          case 1: return Step{Op::kSleep, arg * 100};
          case 2: return Step{Op::kLock, arg % kMutexes};
          default: return Step{Op::kLockedYield, arg % kMutexes};
        }
      },
      // Resized: gen::inRange is size-scaled; kinds should be uniform from the start.
      rc::gen::resize(100, rc::gen::inRange(0, 4)), rc::gen::resize(100, rc::gen::inRange(0, 4)));
}

rc::Gen<Program> gen_program() {
  return rc::gen::resize(12, rc::gen::nonEmpty(rc::gen::container<Program>(rc::gen::container<std::vector<Step>>(gen_step()))));
}

}  // namespace

TEST_CASE("same seed and strategy give the same fingerprint twice") {
  rc::prop("fingerprint is a function of (program, seed, strategy)", [] {
    Program program = *gen_program();
    auto seed = *rc::gen::inRange<std::uint64_t>(0, 1000);
    for (const char* strategy : {"fifo", "random", "pct:3"}) {
      Outcome a = run_program(program, seed, strategy);
      Outcome b = run_program(program, seed, strategy);
      RC_ASSERT(a.ok);
      RC_ASSERT(a.fingerprint == b.fingerprint);
      RC_ASSERT(a.log == b.log);
    }
  });
}

TEST_CASE("fifo follows program order") {
  rc::prop("yield-only programs run round-robin in spawn order", [] {
    auto lengths = *rc::gen::resize(8, rc::gen::nonEmpty(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 6))));
    Program program;
    for (int n : lengths) program.push_back(std::vector<Step>(static_cast<std::size_t>(n), Step{Op::kYield, 0}));
    // The model: a FIFO ready queue; each turn logs one step and requeues.
    std::vector<int> expected;
    std::deque<std::pair<int, int>> ready;
    for (std::size_t i = 0; i < lengths.size(); ++i) ready.emplace_back(static_cast<int>(i), lengths[i]);
    while (!ready.empty()) {
      auto [id, left] = ready.front();
      ready.pop_front();
      if (left == 0) continue;
      expected.push_back(id);
      ready.emplace_back(id, left - 1);
    }
    RC_ASSERT(run_program(program, 0, "fifo").log == expected);
  });
}

namespace {
Program racy_program() {
  Program p;
  for (int i = 0; i < 4; ++i) {
    p.push_back({{Op::kYield, 0}, {Op::kLockedYield, i % 2}, {Op::kYield, 0}, {Op::kLock, (i + 1) % 2}, {Op::kYield, 0}});
  }
  return p;
}
}  // namespace

TEST_CASE("different seeds of random and pct give different interleavings of a racy program") {
  Program p = racy_program();
  for (const char* strategy : {"random", "pct:2", "pct:3"}) {
    std::set<std::vector<int>> logs;
    for (std::uint64_t seed = 0; seed < 20; ++seed) logs.insert(run_program(p, seed, strategy).log);
    INFO(strategy);
    CHECK(logs.size() >= 5);
  }
  // fifo ignores the seed.
  std::set<std::vector<int>> fifo_logs;
  for (std::uint64_t seed = 0; seed < 5; ++seed) fifo_logs.insert(run_program(p, seed, "fifo").log);
  CHECK(fifo_logs.size() == 1);
}

TEST_CASE("a replayed tape reproduces the identical trace") {
  rc::prop("replay(tape of run) == run", [] {
    Program program = *gen_program();
    auto seed = *rc::gen::inRange<std::uint64_t>(0, 1000);
    const char* strategy = *rc::gen::element("random", "pct:2", "pct:4");
    Outcome original = run_program(program, seed, strategy);
    // The replay uses another seed on purpose: only the tape matters.
    Outcome replayed = run_program(program, seed + 1, "replay", original.tape);
    RC_ASSERT(!replayed.divergence.has_value());
    RC_ASSERT(replayed.fingerprint == original.fingerprint);
    RC_ASSERT(replayed.log == original.log);
  });
}

TEST_CASE("replay follows the tape: a changed choice changes the run, a wrong tape reports divergence") {
  Program p = racy_program();
  Outcome original = run_program(p, 3, "random");
  REQUIRE(original.tape.choices.size() > 2);
  sim::ChoiceTape changed = original.tape;
  sim::Choice& c = changed.choices[0];
  c.chosen = (c.chosen + 1) % c.candidates;
  Outcome other = run_program(p, 3, "replay", changed);
  CHECK(other.fingerprint != original.fingerprint);

  sim::ChoiceTape wrong;
  wrong.choices.push_back(sim::Choice{7, 0});
  Outcome diverged = run_program(p, 3, "replay", wrong);
  REQUIRE(diverged.divergence.has_value());
  CHECK(diverged.divergence->find("tape has 7 candidates") != std::string::npos);
}

TEST_CASE("choice tapes round-trip through text and reject malformed input") {
  sim::ChoiceTape t;
  t.choices = {{2, 1}, {5, 4}, {3, 0}};
  auto parsed = sim::ChoiceTape::parse(t.to_string());
  REQUIRE(parsed.ok());
  CHECK(parsed->choices == t.choices);
  CHECK_FALSE(sim::ChoiceTape::parse("2:2").ok());
  CHECK_FALSE(sim::ChoiceTape::parse("1:0").ok());
  CHECK_FALSE(sim::ChoiceTape::parse("3:x").ok());
  CHECK(std::string(sim::ChoiceTape::parse("2:1 3").status().message()).find("entry 2") != std::string::npos);
}

TEST_CASE("strategy names parse, and bad ones say what was expected") {
  CHECK(sim::StrategySpec::parse("pct:5")->pct_depth == 5);
  CHECK(sim::StrategySpec::parse("pct")->to_string() == "pct:3");
  auto bad = sim::StrategySpec::parse("pct:0");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("expected pct:D with D from 1 to 64") != std::string::npos);
  CHECK_FALSE(sim::StrategySpec::parse("lifo").ok());
}
