// Sweeps of many seeds in worker processes: a seed that crashes its process
// (a signal, an abort) or hangs is recorded as that seed's failure, and the sweep
// goes on with a fresh worker. Results come back in seed order whatever the
// number of workers, so two sweeps with the same arguments give the same output.
#pragma once

#include <csignal>
#include <cstdint>
#include <map>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace scenarios {

inline constexpr unsigned kMaxWorkers = 256;
inline constexpr std::uint64_t kMaxSweepSeeds = 100'000'000;

// How long past its seed timeout a silent worker is given before it is killed.
inline double hang_grace_s(double seed_timeout_s) { return seed_timeout_s < 10 ? seed_timeout_s : 10; }

struct SeedOutcome;

struct SweepOptions {
  std::vector<std::uint64_t> seeds;
  std::optional<sim::StrategySpec> strategy;
  std::vector<engine::Mutant> mutants;
  std::vector<engine::Fix> fixes;
  unsigned workers = 1;
  // Stop at the first seed this accepts (a failure, or a failure that is new
  // against a baseline): seeds go out one at a time, and nothing runs past it
  // but what other workers had already started. Empty: every seed runs.
  std::function<bool(const SeedOutcome&)> stop_when;
  double time_budget_s = 0;     // wall-clock budget of the sweep (0: none); seeds not started are left out
  // A seed running longer ends with verdict wall-budget (its run's watchdog);
  // a worker silent for hang_grace_s more is killed and the seed recorded as
  // a hang (stuck inside one step, where the watchdog cannot look).
  double seed_timeout_s = kDefaultWallBudgetS;
  // Tests of the recovery paths: the worker running this seed aborts / hangs.
  std::optional<std::uint64_t> crash_seed_for_testing;
  std::optional<std::uint64_t> hang_seed_for_testing;
  // Called in the parent as results arrive (done, total, failures so far).
  std::function<void(std::uint64_t, std::uint64_t, std::uint64_t)> progress;
  // Set (to the signal number) by a signal handler to stop the sweep: workers
  // are killed, the seeds finished so far are the result.
  const volatile std::sig_atomic_t* interrupt = nullptr;
};

struct SeedOutcome {
  std::uint64_t seed = 0;
  std::string verdict;  // a verdict kind name, or "crash" / "hang"
  std::string property;
  std::string signature;  // sim::failure_signature, or "crash [SIGABRT]" / "hang"
  std::string known_defect;  // the known defect of the reference it is (known_defects.h), if any
  std::string message;
  std::vector<std::string> details;  // the verdict's (a deadlock's blocked coroutines and cycle, ...)
  std::string location;              // an invariant's source location
  std::string strategy;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  std::map<std::string, std::uint64_t> probes;  // code probes the run reached, with their hits
  std::map<std::string, std::uint64_t> probes_in_checks;  // and those the checks after it reached (not coverage)
  bool ok() const { return verdict == "pass"; }
  // Whether running the seed again in-process gives the same failure, for a
  // repro or a report: not for a crashed or hung worker, nor a run that ended
  // on the wall clock (it would take as long again, and may not recur).
  bool rerunnable() const { return verdict != "crash" && verdict != "hang" && verdict != "wall-budget"; }
};

struct SweepResult {
  std::vector<SeedOutcome> outcomes;  // by seed
  std::uint64_t skipped = 0;          // seeds not run (stop-on-first, time budget, interrupt)
  int interrupted_by = 0;             // the signal that stopped the sweep, or 0
  double wall_s = 0;
};

// One seed's outcome as one line of JSON (what a worker sends, what a resume
// file keeps), and back.
std::string seed_outcome_json(const SeedOutcome& o);
std::optional<SeedOutcome> seed_outcome_from_json(const std::string& line);

// The seeds of shard `k` of `n` (1-based): every n-th seed, starting with the k-th.
std::vector<std::uint64_t> shard_seeds(const std::vector<std::uint64_t>& seeds, unsigned k, unsigned n);

absl::StatusOr<SweepResult> sweep(const Scenario& scenario, const SweepOptions& options);

}  // namespace scenarios
