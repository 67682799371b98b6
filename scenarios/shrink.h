// Shrinking a failing run: the smallest scenario (fewer jobs, commands, events
// and fault rules; shorter requests; smaller queue depths and random workloads)
// and then the shortest, most-oldest-first choice tape that still fails with the
// same property. Works on the TOML document, so every option the shrinker does
// not touch survives as written.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace scenarios {

inline constexpr std::size_t kDefaultShrinkRuns = 2000;

struct ScenarioSize {
  std::uint64_t jobs = 0;
  std::uint64_t commands = 0;  // listed commands plus random workload operations
  std::uint64_t events = 0;
  std::uint64_t rules = 0;  // fault rules
  std::uint64_t bytes = 0;  // sum of request lengths
  std::string to_string() const;
  bool operator==(const ScenarioSize&) const = default;
};
ScenarioSize measure(const Scenario& s);
// Whether a is no larger than b in every measure.
bool no_larger(const ScenarioSize& a, const ScenarioSize& b);

struct ShrinkOptions {
  std::uint64_t seed = 0;
  std::optional<sim::StrategySpec> strategy;  // default: the scenario's
  sim::ChoiceTape tape;                       // with a replay strategy
  std::vector<engine::Mutant> mutants;
  std::vector<engine::Fix> fixes;
  // The scenario's images, so that variants read no file (image_store_of).
  ImageStore images;
  double wall_budget_s = kDefaultWallBudgetS;  // of each run
  std::size_t max_runs = kDefaultShrinkRuns;
  std::function<void(const std::string&)> progress;  // one line per accepted step
};

struct ShrinkResult {
  std::string text;  // the shrunk scenario, TOML
  Scenario scenario;
  RunOptions options;  // replay strategy with the shrunk tape
  RunResult result;
  ScenarioSize before, after;
  std::size_t tape_before = 0, tape_after = 0;
  std::size_t runs = 0;
  std::string property;  // what still fails: the failure's signature (sim::failure_signature)
  // The budget (ShrinkOptions::max_runs) ended the search: the result is the
  // smallest failing scenario found so far, not necessarily a minimal one.
  bool budget_exhausted = false;
};

// `text` is the scenario file's content, `path` its name (for errors and images).
absl::StatusOr<ShrinkResult> shrink_failure(const std::string& text, const std::string& path, const ShrinkOptions& options);

}  // namespace scenarios
