// Replays, shrinking and sweeps, as properties: a repro replays to its
// fingerprint and says where a changed run diverges; a shrunk case fails the
// same way and is no larger; shards partition a sweep; sweeps are repeatable.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "scenarios/explore.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "sim/str.h"
#include "tests/scenarios/library.h"

namespace {

std::string library_text(const std::string& name) {
  std::ifstream in(testing::library_path(name));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("a repro file replays to its fingerprint, for passing and failing runs and every strategy") {
  // (pattern-files: the pattern files a scenario reads travel in the repro file too.)
  for (const char* name : {"overlapping-writers.toml", "flush-crash.toml", "fua-crash.toml", "breakpoint-deadlock.toml",
                           "pattern-files.toml"}) {
    for (const char* strategy : {"fifo", "random", "pct:3"}) {
      for (std::uint64_t seed : {0, 5}) {
        const scenarios::Scenario s = testing::library(name);
        scenarios::RunOptions o;
        o.seed = seed;
        o.strategy = *sim::StrategySpec::parse(strategy);
        const scenarios::RunResult original = scenarios::run_scenario(s, o);
        const std::string json = scenarios::repro_to_json(scenarios::make_repro(s, library_text(name), o, original));
        auto repro = scenarios::parse_repro(json, "r.json");
        INFO(repro.status().message());
        REQUIRE(repro.ok());
        auto rs = scenarios::repro_scenario(*repro);
        auto ro = scenarios::repro_options(*repro);
        REQUIRE(rs.ok());
        REQUIRE(ro.ok());
        const scenarios::RunResult again = scenarios::run_scenario(*rs, *ro);
        INFO(name << " " << strategy << " seed " << seed);
        CHECK(again.fingerprint == original.fingerprint);
        CHECK(scenarios::compare_replay(*repro, again).identical);
        CHECK(again.verdict.kind == original.verdict.kind);
      }
    }
  }
}

TEST_CASE("a replay that diverges names the window of its first differing event") {
  const scenarios::Scenario s = testing::library("rmw-alignments.toml");
  scenarios::RunOptions o;
  o.seed = 3;
  const scenarios::RunResult original = scenarios::run_scenario(s, o);
  REQUIRE(original.events > 4 * scenarios::kCheckpointEvents);
  scenarios::Repro repro = scenarios::make_repro(s, library_text("rmw-alignments.toml"), o, original);
  // The run is the same; the record says otherwise from checkpoint 3 on.
  repro.fingerprint ^= 1;
  for (std::size_t k = 3; k < repro.checkpoints.size(); ++k) repro.checkpoints[k] ^= 1;
  const scenarios::ReplayComparison c = scenarios::compare_replay(repro, original);
  CHECK_FALSE(c.identical);
  CHECK_THAT(c.summary, Catch::StartsWith("DIVERGED: the first differing event is in [768, 1024)"));
  // With the per-event digests differing too, the event itself is named.
  repro.digests[800] ^= 1;
  repro.digests[900] ^= 1;
  const scenarios::ReplayComparison exact = scenarios::compare_replay(repro, original);
  REQUIRE(exact.first_difference.has_value());
  CHECK(*exact.first_difference == 800);
  CHECK_THAT(exact.summary, Catch::StartsWith("DIVERGED: the first differing event is 800 "));
}

TEST_CASE("a repro whose scenario was edited diverges, and the replay names the first differing event") {
  const std::string text = library_text("overlapping-writers.toml");
  const scenarios::Scenario s = testing::library("overlapping-writers.toml");
  scenarios::RunOptions o;
  o.seed = 1;
  const scenarios::RunResult original = scenarios::run_scenario(s, o);
  scenarios::Repro repro = scenarios::make_repro(s, text, o, original);
  // The third job starts later: everything before its start is the same.
  const std::string from = "start_ns = 30000";
  REQUIRE(repro.scenario_text.find(from) != std::string::npos);
  repro.scenario_text.replace(repro.scenario_text.find(from), from.size(), "start_ns = 30001");
  auto rs = scenarios::repro_scenario(repro);
  REQUIRE(rs.ok());
  const scenarios::RunResult edited = scenarios::run_scenario(*rs, *scenarios::repro_options(repro));
  const scenarios::ReplayComparison c = scenarios::compare_replay(repro, edited);
  CHECK_FALSE(c.identical);
  REQUIRE(c.first_difference.has_value());
  CHECK(*c.first_difference > 0);
  CHECK(original.digests[*c.first_difference] != edited.digests[*c.first_difference]);
  for (std::uint64_t e = 0; e < *c.first_difference; ++e) REQUIRE(original.digests[e] == edited.digests[e]);
}

TEST_CASE("bad repro files are refused with what was expected") {
  CHECK(scenarios::parse_repro("{", "r.json").status().message().find("r.json: not a usable blksim repro file: JSON syntax") == 0);
  CHECK(scenarios::parse_repro("{}", "r.json").status().message() ==
        "r.json: not a usable blksim repro file: expected an object with \"blksim_repro\"");
  CHECK(scenarios::parse_repro(R"({"blksim_repro": 9})", "r.json").status().message() ==
        "r.json: not a usable blksim repro file: format 9, this blksim reads formats 1 to 2");
  CHECK(scenarios::parse_repro(R"({"blksim_repro": 1, "version": "x"})", "r.json").status().message().find("missing or mistyped field") !=
        std::string::npos);
}

TEST_CASE("a shrunk case still fails with the same property and is no larger") {
  struct Case {
    const char* scenario;
    std::vector<engine::Mutant> mutants;
  };
  const Case cases[] = {
      {"overlapping-writers.toml", {engine::Mutant::kSkipSerialisingWait}},
      {"flush-crash.toml", {engine::Mutant::kSkipFlushToDisk}},
      {"fua-crash.toml", {}},
  };
  for (const Case& c : cases) {
    const scenarios::Scenario s = testing::library(c.scenario);
    auto failing = testing::first_failure(s, 20, c.mutants);
    REQUIRE(failing.has_value());
    scenarios::ShrinkOptions so;
    so.seed = failing->seed;
    so.mutants = c.mutants;
    so.max_runs = 400;
    auto shrunk = scenarios::shrink_failure(library_text(c.scenario), testing::library_path(c.scenario), so);
    INFO(c.scenario << ": " << shrunk.status().message());
    REQUIRE(shrunk.ok());
    CHECK(shrunk->result.verdict.kind == failing->verdict.kind);
    CHECK(shrunk->result.verdict.id == failing->verdict.id);
    CHECK(scenarios::no_larger(shrunk->after, shrunk->before));
    CHECK(shrunk->tape_after <= shrunk->tape_before);
    // The shrunk scenario and options reproduce the failure on their own.
    auto again = scenarios::parse_scenario(shrunk->text, testing::library_path(c.scenario));
    REQUIRE(again.ok());
    const scenarios::RunResult r = scenarios::run_scenario(*again, shrunk->options);
    CHECK(r.verdict.id == failing->verdict.id);
    CHECK(r.fingerprint == shrunk->result.fingerprint);
  }
  // Something really went: the flush-crash case needs far fewer than 200 commands.
  const scenarios::Scenario s = testing::library("flush-crash.toml");
  auto failing = testing::first_failure(s, 5, {engine::Mutant::kSkipFlushToDisk});
  REQUIRE(failing.has_value());
  scenarios::ShrinkOptions so;
  so.seed = failing->seed;
  so.mutants = {engine::Mutant::kSkipFlushToDisk};
  auto shrunk = scenarios::shrink_failure(library_text("flush-crash.toml"), testing::library_path("flush-crash.toml"), so);
  REQUIRE(shrunk.ok());
  CHECK(shrunk->after.commands < shrunk->before.commands / 4);
  CHECK(shrunk->after.events < shrunk->before.events);
}

// An event that waits for completed commands keeps them all unless its
// count comes down with them.
TEST_CASE("shrinking lowers an event's after_requests with the commands it counted") {
  std::string text = R"([scenario]
name = "counted"
strategy = "fifo"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 50000]
[[event]]
after_requests = 12
action = "drain_all"
[[job]]
name = "j"
node = "disk"
queue_depth = 16
commands = [)";
  // Fourteen writes at once: when the twelfth completes, two are in flight.
  for (int i = 0; i < 14; ++i) text += sim::cat(i ? ", " : "", "\"aio_write -P 0x", 10 + i, " ", 4096 * i, " 4096\"");
  text += "]\n";
  scenarios::ShrinkOptions so;
  so.mutants = {engine::Mutant::kDrainNoWait};
  auto shrunk = scenarios::shrink_failure(text, "counted.toml", so);
  INFO(shrunk.status().message());
  REQUIRE(shrunk.ok());
  CHECK(shrunk->result.verdict.id == "drain");
  CHECK(shrunk->before.commands == 14);
  CHECK(shrunk->after.commands <= 2);
  CHECK(shrunk->text.find("after_requests = 1\n") != std::string::npos);
}

TEST_CASE("shrinking a passing run is refused") {
  scenarios::ShrinkOptions so;
  auto r = scenarios::shrink_failure(library_text("overlapping-writers.toml"), testing::library_path("overlapping-writers.toml"), so);
  CHECK(absl::IsFailedPrecondition(r.status()));
}

TEST_CASE("shards partition a sweep, and two sweeps with the same arguments agree") {
  const scenarios::Scenario s = testing::library("overlapping-writers.toml");
  scenarios::SweepOptions o;
  for (std::uint64_t seed = 0; seed < 24; ++seed) o.seeds.push_back(seed);
  o.mutants = {engine::Mutant::kSkipSerialisingWait};  // some seeds fail
  o.workers = 2;
  auto whole = scenarios::sweep(s, o);
  REQUIRE(whole.ok());
  REQUIRE(whole->outcomes.size() == 24);
  auto again = scenarios::sweep(s, o);
  REQUIRE(again.ok());
  std::vector<scenarios::SeedOutcome> merged;
  for (unsigned k = 1; k <= 3; ++k) {
    scenarios::SweepOptions shard = o;
    shard.seeds = scenarios::shard_seeds(o.seeds, k, 3);
    shard.workers = k;  // the worker count must not matter either
    auto part = scenarios::sweep(s, shard);
    REQUIRE(part.ok());
    merged.insert(merged.end(), part->outcomes.begin(), part->outcomes.end());
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) { return a.seed < b.seed; });
  REQUIRE(merged.size() == whole->outcomes.size());
  std::uint64_t failures = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    CHECK(merged[i].seed == whole->outcomes[i].seed);
    CHECK(merged[i].fingerprint == whole->outcomes[i].fingerprint);
    CHECK(merged[i].verdict == whole->outcomes[i].verdict);
    CHECK(again->outcomes[i].fingerprint == whole->outcomes[i].fingerprint);
    CHECK(again->outcomes[i].message == whole->outcomes[i].message);
    // The sweep's outcome is the in-process run's.
    CHECK(testing::run(s, merged[i].seed, o.mutants).fingerprint == merged[i].fingerprint);
    failures += merged[i].ok() ? 0 : 1;
  }
  CHECK(failures > 0);
}

TEST_CASE("a seed that kills its worker is recorded as that seed's crash, and the sweep goes on") {
  // Scenario failures are verdicts, not crashes; the worker is made to abort
  // (and, below, to hang) on one seed by the sweep's test hooks.
  const scenarios::Scenario s = testing::library("overlapping-writers.toml");
  scenarios::SweepOptions o;
  o.seeds = {0, 1, 2, 3, 4, 5};
  o.workers = 2;
  o.crash_seed_for_testing = 3;
  auto r = scenarios::sweep(s, o);
  REQUIRE(r.ok());
  REQUIRE(r->outcomes.size() == 6);
  for (const scenarios::SeedOutcome& out : r->outcomes) {
    INFO("seed " << out.seed << ": " << out.message);
    if (out.seed == 3) {
      CHECK(out.verdict == "crash");
      CHECK_THAT(out.message, Catch::Contains("signal"));
    } else {
      CHECK(out.ok());
    }
  }
}

TEST_CASE("a seed that hangs its worker is killed after the timeout and recorded as a hang") {
  const scenarios::Scenario s = testing::library("overlapping-writers.toml");
  scenarios::SweepOptions o;
  o.seeds = {0, 1, 2, 3};
  o.workers = 2;
  o.seed_timeout_s = 0.5;
  o.hang_seed_for_testing = 1;
  auto r = scenarios::sweep(s, o);
  REQUIRE(r.ok());
  REQUIRE(r->outcomes.size() == 4);
  CHECK(r->outcomes[1].verdict == "hang");
  CHECK(r->outcomes[0].ok());
  CHECK(r->outcomes[2].ok());
  CHECK(r->outcomes[3].ok());
}

TEST_CASE("fuzz regressions parse without crashing: each is rejected with an error") {
  namespace fs = std::filesystem;
  std::size_t seen = 0;
  for (const char* kind : {"scenario", "repro"}) {
    const fs::path dir = fs::path(BLKSIM_SOURCE_DIR) / "fuzz" / "regressions" / kind;
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      INFO(entry.path().string());
      if (std::string(kind) == "scenario") {
        CHECK_FALSE(scenarios::parse_scenario(text, entry.path().string()).ok());
      } else {
        CHECK_FALSE(scenarios::parse_repro(text, entry.path().string()).ok());
      }
      ++seen;
    }
  }
  CHECK(seen >= 1);
}
