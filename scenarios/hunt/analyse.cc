#include "scenarios/hunt/analyse.h"

#include <algorithm>
#include <string>
#include <utility>

#include "scenarios/hunt/consequence.h"
#include "scenarios/known_defects.h"

namespace scenarios::hunt {

std::optional<AnalysisClock::time_point> analysis_deadline(const HuntOptions& options, AnalysisClock::time_point start) {
  if (options.time_budget_s <= 0) return std::nullopt;
  const double s = options.time_budget_s + std::max(kAnalysisGraceMinS, options.time_budget_s / 4);
  return start + std::chrono::duration_cast<AnalysisClock::duration>(std::chrono::duration<double>(s));
}

namespace {

// A crashed or hung worker has no run to compare: such a signature is
// neither a consequence nor the unmutated engine's.
bool comparable(const Finding& f) { return !f.signature.starts_with("crash [") && f.signature != "hang"; }

absl::Status analyse(Finding& f, const SeedOutcome& o, const FailureContext& c) {
  const HuntOptions& h = *c.options;
  const ConsequenceQuery q{c.scenario,  f.signature, h.mutants, c.run_options->fixes, h.workers, h.wall_budget_s,
                           c.deadline};
  // A label by signature (given only where the run hit the defect's probe,
  // if it has one: known_defect_for) is checked on the run itself: with the
  // defect's fix on it must not fail the same way.
  if (const KnownDefect* d = known_defect_named(f.known_defect)) {
    absl::StatusOr<bool> confirmed = label_confirmed(q, o.seed, d->fix);
    if (!confirmed.ok()) return confirmed.status();
    if (!*confirmed) f.refuted_label = std::exchange(f.known_defect, "");
  }
  f.open_finding = f.known_defect.empty() && h.open_findings.contains(f.signature);
  // With a mutant, a signature the unmutated engine shows on the same runs is
  // not the mutant's catch: the hunt's own open findings.
  if (f.is_new() && !h.mutants.empty() && comparable(f)) {
    SweepOptions plain = *c.run_options;
    plain.mutants.clear();
    absl::StatusOr<SweepResult> unmutated = sweep_by(*c.scenario, std::move(plain), c.deadline);
    if (!unmutated.ok()) return unmutated.status();
    if (unmutated->skipped > 0) return absl::DeadlineExceededError("the analysis deadline passed");
    for (const SeedOutcome& u : unmutated->outcomes) f.without_mutant = f.without_mutant || u.signature == f.signature;
  }
  // A signature the registry does not know may still be a known defect's
  // consequence: its fix alone makes it go away.
  if (f.is_new() && comparable(f)) {
    absl::StatusOr<std::optional<Consequence>> found = consequence_of_known_defect(q);
    if (!found.ok()) return found.status();
    if (found->has_value()) {
      f.consequence_of = (*found)->defect;
      f.consequence_failing = (*found)->failing;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status analyse_first_failure(Finding& f, const SeedOutcome& o, const FailureContext& c) {
  absl::Status st = analyse(f, o, c);
  if (absl::IsDeadlineExceeded(st)) {
    f.unanalysed = true;
    return absl::OkStatus();
  }
  return st;
}

std::vector<std::vector<engine::Fix>> fix_sets_behind(const std::vector<SeedOutcome>& outcomes,
                                                      const std::map<std::string, std::size_t>& by_signature,
                                                      const std::vector<Finding>& findings,
                                                      const std::vector<engine::Fix>& hunt_fixes) {
  std::vector<engine::Fix> behind;
  const auto add = [&](std::string_view defect) {
    const KnownDefect* d = known_defect_named(defect);
    if (d == nullptr) return;
    const bool already = std::find(hunt_fixes.begin(), hunt_fixes.end(), d->fix) != hunt_fixes.end() ||
                         std::find(behind.begin(), behind.end(), d->fix) != behind.end();
    if (!already) behind.push_back(d->fix);
  };
  for (const SeedOutcome& o : outcomes) {
    const auto found = by_signature.find(o.signature);
    if (o.ok() || found == by_signature.end()) continue;
    const Finding& f = findings[found->second];
    add(f.known_defect);
    if (!f.consequence_of.empty()) {
      for (const std::string& d : consequence_defects(f.consequence_of)) add(d);
    }
  }
  // In the fixes' order, whatever the order the runs met them in.
  std::sort(behind.begin(), behind.end());
  std::vector<std::vector<engine::Fix>> sets;
  for (engine::Fix fix : behind) sets.push_back({fix});
  if (behind.size() > 1) sets.push_back(behind);
  return sets;
}

}  // namespace scenarios::hunt
