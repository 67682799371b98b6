// A repro file: everything needed to run a failure again bit for bit, anywhere,
// in JSON: the scenario (its whole text, and the images it reads, compressed,
// each with a digest), the seed, the strategy, the choice tape, the engine
// mutants and fixes, blksim's version, and what the run gave (verdict,
// signature, fingerprint, and a fingerprint every kCheckpointEvents events to
// locate a divergence). Reading one checks its digests before anything runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "scenarios/image_store.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace scenarios {

// Format 2 carries images, digests, fixes and the signature; format 1 files
// (without them) are still read.
inline constexpr int kReproFormat = 2;

// What blksim models: named in repros and --version, since a QEMU developer
// assumes today's block/io.c.
inline constexpr const char* kReference = "QEMU block/io.c at commit 9cdcfd9f7a (October 2017, during 2.11 development)";

struct ReproImage {
  std::string name;  // as the scenario names it (`image = "seed.raw"`)
  ImageBytes bytes;
  std::string digest;  // content_digest(bytes)
};

struct Repro {
  int format = kReproFormat;
  std::string version;  // blksim's
  std::string scenario_file;
  std::string scenario_text;
  std::string scenario_digest;  // content_digest(scenario_text); "" in format 1
  std::vector<ReproImage> images;
  std::uint64_t seed = 0;
  std::string strategy;  // as StrategySpec::parse reads it; "replay" uses the tape
  sim::ChoiceTape tape;
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  // Expected outcome.
  std::string verdict;    // verdict kind name
  std::string property;   // the oracle or invariant id ("" for deadlocks and budgets)
  std::string signature;  // sim::failure_signature ("" in format 1)
  std::string known_defect;
  std::string message;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  std::vector<std::uint64_t> checkpoints;
  std::vector<std::uint16_t> digests;
};

Repro make_repro(const Scenario& scenario, const std::string& scenario_text, const RunOptions& options,
                 const RunResult& result);
std::string repro_to_json(const Repro& repro);
// Errors name the file and what was expected; numbers out of range, a
// scenario text or image that does not match its digest, are errors.
absl::StatusOr<Repro> parse_repro(const std::string& text, const std::string& path);
absl::StatusOr<Repro> load_repro(const std::string& path);

// The scenario and run options a repro describes. `repro_path` names the repro
// file in errors (an error in the embedded scenario is reported against it).
absl::StatusOr<Scenario> repro_scenario(const Repro& repro, const std::string& repro_path = "repro");
absl::StatusOr<RunOptions> repro_options(const Repro& repro, const std::string& repro_path = "repro");

// How a replay compares with the repro: identical, or where it first differs.
struct ReplayComparison {
  bool identical = false;
  std::optional<std::uint64_t> first_difference;  // the first differing event, when the digests tell
  std::string summary;  // one line for humans
  // Said whatever the outcome: the repro was written by another version of blksim.
  std::string version_note;
};
ReplayComparison compare_replay(const Repro& repro, const RunResult& result);

}  // namespace scenarios
