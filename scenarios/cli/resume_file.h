// A sweep that stopped before all its seeds ran (a signal, --time-budget,
// --stop-on-first) leaves a resume file: the scenario it swept (with a digest
// of its text), the sweep's seeds, strategy, mutants and fixes, and every
// seed that finished with its outcome. `explore --resume FILE` runs exactly
// the seeds that did not finish and reports the whole sweep.
#pragma once

#include <cstdint>
#include <map>
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

// A suite that stopped early: the directory, each scenario file's digest,
// the sweep's options, and the outcomes of every seed that finished, by pass
// ("NAME" or "NAME+fix-DEFECT"). `suite --resume FILE` runs the rest.
struct SuiteResumeState {
  std::string dir;
  std::uint32_t seeds = 0;  // --seeds, 0: each scenario's
  std::string strategy;
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  std::map<std::string, std::string> digests;  // scenario file name -> content digest
  std::map<std::string, std::vector<scenarios::SeedOutcome>> finished;  // pass name -> outcomes
};
void write_suite_resume_file(const std::string& path, const SuiteResumeState& state);
SuiteResumeState read_suite_resume_file(const std::string& path);

}  // namespace cli
