// The hunter's loop: generate a scenario, run a few seeds of it in worker
// processes with every oracle on, group what fails by signature.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/mutations.h"
#include "scenarios/explore.h"
#include "scenarios/hunt/generate.h"
#include "scenarios/runner.h"

namespace scenarios::hunt {

// At most this many generated scenarios per hunt (a time budget ends it sooner).
inline constexpr std::uint64_t kMaxHuntScenarios = 100'000'000;
inline constexpr std::uint32_t kMaxRunSeeds = 1000;

struct HuntOptions {
  std::uint64_t first_seed = 0;     // scenarios first_seed, first_seed + 1, ...
  std::uint64_t scenarios = 100;    // how many
  // Shard K of N (1-based): position i of this hunt is seed
  // first_seed + i * N + K - 1, so shards of one hunt never share a seed
  // (each keeps a corpus of its own, as parallel fuzzers do).
  unsigned shard_k = 1;
  unsigned shard_n = 1;
  std::uint32_t run_seeds = 3;      // seeds run per scenario
  unsigned workers = 1;
  double time_budget_s = 0;         // wall clock of the whole hunt; 0: none
  double wall_budget_s = kDefaultWallBudgetS;  // per run
  bool swarm = true;
  // Coverage feedback: keep the scenarios that reached new probes, probe hit
  // buckets or probe pairs, and make every other scenario a mutation of one.
  bool feedback = true;
  bool stop_on_new = false;  // end the hunt after the scenario that shows the first new signature
  // Open findings (a baseline): signatures found before and not yet fixed or
  // labelled; reported, never new.
  std::set<std::string> open_findings;
  std::vector<engine::Mutant> mutants;
  std::vector<engine::Fix> fixes;
  // After each scenario.
  std::function<void(const struct HuntProgress&)> progress;
  // After each scenario's first runs (not the runs behind known defects):
  // its text's hash and every run's verdict and fingerprint, for a hunt's
  // audit trail (two hunts of the same options give the same lines).
  std::function<void(const Generated&, const std::vector<SeedOutcome>&)> on_scenario;
  const volatile std::sig_atomic_t* interrupt = nullptr;
};

struct HuntProgress {
  std::uint64_t scenarios = 0;
  std::uint64_t runs = 0;
  std::size_t signatures = 0;
  std::size_t corpus = 0;
  std::size_t probes_reached = 0;
  std::size_t probes = 0;
  double wall_s = 0;
};

// One failure signature and where it was first seen.
struct Finding {
  std::string signature;
  std::string known_defect;  // a known defect of the reference, or "" (new)
  // Not the registry's shape, but it holds with this known defect's fix (on
  // every one of kConsequenceSeeds seeds, failing on `consequence_failing`
  // without it): a consequence of that defect, not a new one.
  std::string consequence_of;
  std::uint64_t consequence_failing = 0;
  std::string property;
  std::string message;
  std::uint64_t count = 0;  // runs that failed with it
  Generated first;          // the first scenario that showed it
  std::uint64_t run_seed = 0;
  std::string strategy;
  // With a mutant: the unmutated engine fails the same runs the same way, so
  // the mutant did not cause it.
  bool without_mutant = false;
  bool open_finding = false;  // in HuntOptions::open_findings
  // The registry labelled it by its signature, but the failing run fails the
  // same way with that defect's fix on: not that defect (known_defect is then
  // "" and this names the label refuted).
  std::string refuted_label;
  // Found behind known defects: the run had these defects' fixes on (beyond
  // the hunt's own), run again because its scenario first failed with them.
  std::vector<engine::Fix> behind;
  // The hunt's time budget ended its analysis (label check, run without the
  // mutant, consequence search) before an answer: neither new nor known.
  bool unanalysed = false;
  // The simulator could not go on (verdict sim-limit): no verdict on the engine.
  bool simulator_limit() const { return signature.starts_with("sim-limit"); }
  bool is_new() const {
    return known_defect.empty() && consequence_of.empty() && !without_mutant && !open_finding && !simulator_limit() &&
           !unanalysed;
  }
};

struct HuntResult {
  std::uint64_t scenarios = 0;
  std::uint64_t runs = 0;
  std::uint64_t failed_runs = 0;
  // Runs again with the fixes of the known defects a scenario met (apart
  // from `runs` and `failed_runs`: their failures are findings with `behind`).
  std::uint64_t behind_runs = 0;
  std::vector<Finding> findings;  // in the order first seen
  // Generated text the parser refused: a bug of the generator, never a verdict.
  std::vector<std::pair<std::uint64_t, std::string>> rejected;
  std::map<std::string, std::uint64_t> probes;  // every probe with the hunt's hits
  std::map<std::string, std::string> first_reached;  // probe -> the first scenario that reached it
  std::uint64_t mutated = 0;        // scenarios made by mutating a corpus entry
  std::size_t corpus = 0;           // scenarios kept for reaching something new
  std::size_t coverage_features = 0;
  int interrupted_by = 0;
  bool stopped_at_new = false;
  double wall_s = 0;
};

absl::StatusOr<HuntResult> run_hunt(const HuntOptions& options);

// The seed of the i-th fresh scenario of a hunt with these options.
std::uint64_t hunt_seed(const HuntOptions& options, std::uint64_t i);

// Hunts run apart (shards) as one: runs and hits summed, findings by
// signature (the first scenario of a signature is the one of the smallest
// seed; a signature one shard calls new is new, whatever the others say:
// that shard's scenario fails with every fix on).
HuntResult merge_hunts(const std::vector<HuntResult>& parts);

}  // namespace scenarios::hunt
