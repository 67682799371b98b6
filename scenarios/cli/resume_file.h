// A sweep that stopped before all its seeds ran (a signal, --time-budget,
// --stop-on-first) leaves a resume file: the scenario it swept (with a digest
// of its text), the sweep's seeds, strategy, mutants and fixes, and every
// seed that finished with its outcome. `explore --resume FILE` runs exactly
// the seeds that did not finish and reports the whole sweep.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/explore.h"

namespace cli {

inline constexpr int kResumeFormat = 1;

struct ResumeState {
  std::string scenario_file;
  std::string scenario_digest;
  std::vector<std::uint64_t> seeds;  // the whole sweep, in order
  std::string strategy;              // "" : the scenario's
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  std::string shard;  // "K/N" or ""
  std::vector<scenarios::SeedOutcome> finished;  // in seed order
};

// "0..41, 44..47": seeds as inclusive ranges.
std::string seed_ranges(const std::vector<std::uint64_t>& seeds);

void write_resume_file(const std::string& path, const ResumeState& state);
// Bad input (exit 2) for a malformed file.
ResumeState read_resume_file(const std::string& path);

}  // namespace cli
