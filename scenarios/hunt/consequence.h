// Whether a failure the registry does not recognise is a consequence of a
// known defect of the reference: a discard that does not serialise
// (discard-unserialised) makes a serialising write wait late, and a third
// request slips in meanwhile; the failure has a shape of its own, but it is
// the known defect's. The hunter asks each known defect's fix in turn: the
// failure is that defect's consequence when the scenario fails with the
// signature on some of kConsequenceSeeds seeds without the fix and on none
// with it. When no fix alone does, all of them together are tried, and if
// that removes the failure, the fixes it needs (each one dropped in turn,
// kept if the failure comes back without it): a consequence of those
// defects together (a node deleted inside drain_all after a graph change
// there needs two fixes). A fix changes timing too, so "none of 64" is
// evidence, not proof: the output says which fixes and the counts. With a
// mutant, a failure the unmutated engine shows on none of those seeds is no
// known defect's consequence: the mutant's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/fixes.h"
#include "engine/mutations.h"
#include "scenarios/explore.h"
#include "scenarios/scenario.h"

namespace scenarios::hunt {

inline constexpr std::uint64_t kConsequenceSeeds = 64;

struct Consequence {
  std::string defect;        // the known defect's name; several joined by " + " (all their fixes needed)
  std::uint64_t failing = 0;  // seeds of kConsequenceSeeds failing with the signature, without the fix
};

// The defects' names of Consequence::defect (one, or several joined by " + ").
std::vector<std::string> consequence_defects(const std::string& defect);

struct ConsequenceQuery {
  const Scenario* scenario = nullptr;
  std::string signature;
  std::vector<engine::Mutant> mutants;
  std::vector<engine::Fix> fixes;  // on for every run (the hunt's own)
  unsigned workers = 1;
  double wall_budget_s = 0;
  // Past it no sweep starts and one under way is cut short: the query then
  // fails with absl::DeadlineExceededError (an answer from fewer seeds would
  // not be the same answer).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// A sweep that must end by `deadline`, if given: its time budget is what is
// left of it; with nothing left, absl::DeadlineExceededError.
absl::StatusOr<SweepResult> sweep_by(const Scenario& scenario, SweepOptions options,
                                     std::optional<std::chrono::steady_clock::time_point> deadline);

// The first known defect (registry order) whose fix alone removes the
// failure; else the known defects whose fixes together remove it; or nothing.
absl::StatusOr<std::optional<Consequence>> consequence_of_known_defect(const ConsequenceQuery& q);

// Whether a label by signature holds up: the run that failed (`seed`) run
// again with the labelled defect's fix. With the fix on the defect cannot
// happen, so the same signature again means the label is wrong (something
// else fails with the same shape); false then.
absl::StatusOr<bool> label_confirmed(const ConsequenceQuery& q, std::uint64_t seed, engine::Fix fix);

}  // namespace scenarios::hunt
