// What the hunter does with a failure it sees: the first run of a signature
// is analysed (is its known-defect label right, does the unmutated engine
// fail so too, is it a known defect's consequence), and a scenario whose runs
// met known defects is run again with their fixes, to see what they hid.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/fixes.h"
#include "scenarios/explore.h"
#include "scenarios/hunt/hunt.h"
#include "scenarios/scenario.h"

namespace scenarios::hunt {

using AnalysisClock = std::chrono::steady_clock;

// With a time budget of S seconds, a hunt stops starting scenarios at S and
// every analysis must end by S + max(kAnalysisGraceMinS, S / 4): the
// consequence search alone may take dozens of sweeps of kConsequenceSeeds
// runs. A finding whose analysis the deadline cut off is `unanalysed`.
inline constexpr double kAnalysisGraceMinS = 30;
std::optional<AnalysisClock::time_point> analysis_deadline(const HuntOptions& options, AnalysisClock::time_point start);

struct FailureContext {
  const Scenario* scenario = nullptr;
  const HuntOptions* options = nullptr;
  // The options of the runs that failed (the hunt's fixes, and those of the
  // known defects the runs were behind).
  const SweepOptions* run_options = nullptr;
  std::optional<AnalysisClock::time_point> deadline;
};

// The labels of a signature's first failure `o` (f.known_defect, f.signature
// set from it): a label by signature confirmed on the run or refuted; with
// a mutant, whether the unmutated engine fails the same runs so; whether a
// known defect's fix removes it (a consequence). Past the deadline: Ok, with
// f.unanalysed set and the labels it had not reached left as they were.
absl::Status analyse_first_failure(Finding& f, const SeedOutcome& o, const FailureContext& c);

// The fix sets to run a scenario again with, after its runs `outcomes`
// failed with known defects (a label or a consequence, from `findings`
// through `by_signature`): each defect's fix alone, then all together (one
// fix can hide what another uncovers). Fixes the hunt has on are left out.
std::vector<std::vector<engine::Fix>> fix_sets_behind(const std::vector<SeedOutcome>& outcomes,
                                                      const std::map<std::string, std::size_t>& by_signature,
                                                      const std::vector<Finding>& findings,
                                                      const std::vector<engine::Fix>& hunt_fixes);

}  // namespace scenarios::hunt
