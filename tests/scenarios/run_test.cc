#include <catch2/catch.hpp>
#include <algorithm>
#include <set>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "scenarios/library.h"
#include "sim/probe.h"

namespace {
using testing::library;
scenarios::RunResult run_with(const scenarios::Scenario& s, std::uint64_t seed, const char* strategy = nullptr) {
  scenarios::RunOptions o;
  o.seed = seed;
  if (strategy != nullptr) o.strategy = *sim::StrategySpec::parse(strategy);
  return scenarios::run_scenario(s, o);
}
}  // namespace

TEST_CASE("the skeleton scenario holds, and a run is a function of (scenario, seed, strategy)") {
  scenarios::Scenario s = library("overlapping-writers.toml");
  std::set<std::uint64_t> fingerprints;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    scenarios::RunResult a = run_with(s, seed);
    scenarios::RunResult b = run_with(s, seed);
    INFO("seed " << seed << ": " << a.verdict.message);
    REQUIRE(a.verdict.ok());
    CHECK(a.fingerprint == b.fingerprint);
    CHECK(a.events == b.events);
    CHECK(a.tape.choices == b.tape.choices);
    CHECK(a.requests == 12);
    fingerprints.insert(a.fingerprint);
  }
  CHECK(fingerprints.size() >= 8);  // seeds really change the interleaving
}

TEST_CASE("a recorded tape replays the run bit for bit") {
  scenarios::Scenario s = library("overlapping-writers.toml");
  scenarios::RunResult original = run_with(s, 7, "pct:3");
  scenarios::RunOptions o;
  o.seed = 7;  // latency comes from the seed; the schedule from the tape
  o.strategy = sim::StrategySpec{sim::StrategySpec::Kind::kReplay, 3};
  o.tape = original.tape;
  scenarios::RunResult replayed = scenarios::run_scenario(s, o);
  CHECK_FALSE(replayed.divergence.has_value());
  CHECK(replayed.fingerprint == original.fingerprint);
}

TEST_CASE("a bad pattern expectation is an expect failure with the command and its line") {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/tests/fixtures/wrong-read.toml");
  REQUIRE(s.ok());
  scenarios::RunResult r = run_with(*s, 0);
  REQUIRE(r.verdict.kind == sim::Verdict::Kind::kOracle);
  // The engine returned what the writes allow: the scenario's expectation is wrong, not the engine.
  CHECK(r.verdict.id == "expect");
  CHECK(sim::failure_signature(r.verdict) == "oracle:expect [read -P: other data]");
  CHECK(r.verdict.message ==
        "read -P: job 'j' command 'read -P 0x22 0 4k' (" + std::string(BLKSIM_SOURCE_DIR) +
            "/tests/fixtures/wrong-read.toml:11) read 0x11 at offset 0, expected pattern 0x22 (a value the writes "
            "allow: the expectation is wrong, not the engine)");
}

TEST_CASE("a step budget turns a runaway scenario into a verdict") {
  auto s = scenarios::parse_scenario(R"(
[scenario]
name = "tiny-budget"
step_budget = 5
[[node]]
name = "d"
size = "16k"
[[job]]
name = "j"
node = "d"
commands = ["write 0 4k", "write 0 4k", "write 0 4k", "write 0 4k"]
)",
                                     "b.toml");
  REQUIRE(s.ok());
  scenarios::RunResult r = run_with(*s, 0);
  CHECK(r.verdict.kind == sim::Verdict::Kind::kStepBudget);
}

TEST_CASE("a failure while setting up (a format creating its image) is the run's verdict, not a crash") {
  // The cow header (one 512-byte cluster) padded to the disk's 4 KiB sectors
  // needs two buffers, one more than the disk's max_iov: known defect
  // padded-max-iov, met while the image is created, before any job runs.
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "setup-fail"
[[node]]
name = "disk"
driver = "mem"
size = "2M"
request_alignment = 4096
max_iov = 1
[[node]]
name = "top"
driver = "cow"
file = "disk"
size = "64k"
cluster_size = 512
[[job]]
name = "g"
node = "top"
commands = ["write 0 4k"]
)");
  const scenarios::RunResult r = testing::run(s, 0);
  CHECK(r.verdict.kind == sim::Verdict::Kind::kInvariant);
  CHECK(r.verdict.id == "driver.max_iov");
  CHECK(r.requests == 0);
}

TEST_CASE("code probes are known before any run, counted per run, the same every time, and change no fingerprint") {
  std::vector<std::string> names;
  for (const sim::Probe* p : sim::Probe::all()) names.emplace_back(p->name());
  CHECK(std::find(names.begin(), names.end(), "write.rmw_head") != names.end());
  CHECK(std::find(names.begin(), names.end(), "write.notifier_failed") != names.end());  // known though no run reaches it
  const scenarios::Scenario s = testing::library("rmw-alignments.toml");
  const scenarios::RunResult a = testing::run(s, 3);
  const scenarios::RunResult b = testing::run(s, 3);
  REQUIRE(a.probes.count("write.rmw_head") == 1);
  CHECK(a.probes.at("write.rmw_head") > 0);
  CHECK(a.probes.count("write.notifier_failed") == 0);
  CHECK(a.probes == b.probes);
  CHECK(a.fingerprint == b.fingerprint);
  // Another run starts from zero: counts are the run's own.
  const scenarios::RunResult c = testing::run(testing::library("flush-crash.toml"), 0);
  CHECK(c.probes.count("write.rmw_head") == 0);
}
