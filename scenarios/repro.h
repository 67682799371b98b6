// A repro file: everything needed to run a failure again bit for bit, in JSON:
// the scenario (its path and its whole text, so later edits of the file do not
// change the repro), the seed, the strategy, the choice tape, the engine mutants,
// the tool version, and what the run gave (verdict, property, fingerprint, and a
// fingerprint every kCheckpointEvents events to locate a divergence).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace scenarios {

inline constexpr int kReproFormat = 1;

struct Repro {
  std::string version;  // blksim's
  std::string scenario_file;
  std::string scenario_text;
  std::uint64_t seed = 0;
  std::string strategy;  // as StrategySpec::parse reads it; "replay" uses the tape
  sim::ChoiceTape tape;
  std::vector<std::string> mutants;
  // Expected outcome.
  std::string verdict;   // verdict kind name
  std::string property;  // the oracle or invariant id ("" for deadlocks and budgets)
  std::string message;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  std::vector<std::uint64_t> checkpoints;
  std::vector<std::uint16_t> digests;
};

Repro make_repro(const Scenario& scenario, const std::string& scenario_text, const RunOptions& options,
                 const RunResult& result);
std::string repro_to_json(const Repro& repro);
// Errors name the file and what was expected.
absl::StatusOr<Repro> parse_repro(const std::string& text, const std::string& path);
absl::StatusOr<Repro> load_repro(const std::string& path);

// The scenario and run options a repro describes.
absl::StatusOr<Scenario> repro_scenario(const Repro& repro);
absl::StatusOr<RunOptions> repro_options(const Repro& repro);

// How a replay compares with the repro: identical, or where it first differs.
struct ReplayComparison {
  bool identical = false;
  std::optional<std::uint64_t> first_difference;  // the first differing event, when the digests tell
  std::string summary;  // one line for humans
};
ReplayComparison compare_replay(const Repro& repro, const RunResult& result);

// Whether a run fails the same way as the repro (kind and property).
bool same_failure(const sim::Verdict& a, const std::string& verdict, const std::string& property);

}  // namespace scenarios
