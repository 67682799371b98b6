#include "scenarios/hunt/consequence.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "scenarios/explore.h"
#include "scenarios/known_defects.h"

namespace scenarios::hunt {

namespace {

// With `stop_at_first`, the sweep ends at the first seed failing with the
// signature (a fix that does not remove it is known at once).
// `probes`, if given, gets the code probes the failing seeds reached.
absl::StatusOr<std::uint64_t> failing_seeds(const ConsequenceQuery& q, const std::vector<engine::Fix>& fixes,
                                            bool stop_at_first, std::vector<std::uint64_t> seeds = {},
                                            std::set<std::string>* probes = nullptr) {
  SweepOptions o;
  if (stop_at_first) o.stop_when = [&q](const SeedOutcome& s) { return s.signature == q.signature; };
  if (seeds.empty()) {
    for (std::uint64_t seed = 0; seed < kConsequenceSeeds; ++seed) seeds.push_back(seed);
  }
  o.seeds = std::move(seeds);
  o.mutants = q.mutants;
  o.fixes = fixes;
  o.workers = q.workers;
  o.seed_timeout_s = q.wall_budget_s;
  absl::StatusOr<SweepResult> swept = sweep_by(*q.scenario, std::move(o), q.deadline);
  if (!swept.ok()) return swept.status();
  std::uint64_t n = 0;
  for (const SeedOutcome& s : swept->outcomes) {
    if (s.signature != q.signature) continue;
    ++n;
    if (probes == nullptr) continue;
    for (const auto& [name, hits] : s.probes) {
      if (hits > 0) probes->insert(name);
    }
    for (const auto& [name, hits] : s.probes_in_checks) {
      if (hits > 0) probes->insert(name);
    }
  }
  // Seeds left out: the stop condition met (an answer), or the deadline (none).
  if (swept->skipped > 0 && !(stop_at_first && n > 0)) return absl::DeadlineExceededError("the analysis deadline passed");
  return n;
}

}  // namespace

absl::StatusOr<SweepResult> sweep_by(const Scenario& scenario, SweepOptions options,
                                     std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (deadline) {
    options.time_budget_s = std::chrono::duration<double>(*deadline - std::chrono::steady_clock::now()).count();
    if (options.time_budget_s <= 0) return absl::DeadlineExceededError("the analysis deadline passed");
  }
  return sweep(scenario, options);
}

absl::StatusOr<std::optional<Consequence>> consequence_of_known_defect(const ConsequenceQuery& q) {
  std::set<std::string> reached;  // by the failing seeds
  absl::StatusOr<std::uint64_t> without = failing_seeds(q, q.fixes, false, {}, &reached);
  if (!without.ok()) return without.status();
  if (*without == 0) return std::optional<Consequence>();  // not reproducible on these seeds: nothing to compare
  // With a mutant, a failure the unmutated engine never shows on these seeds
  // is the mutant's, even where a fix removes it too (a fix that rewrites the
  // mutated code: a padded write that waits once hides a head read that
  // forgot to wait).
  if (!q.mutants.empty()) {
    ConsequenceQuery plain = q;
    plain.mutants.clear();
    absl::StatusOr<std::uint64_t> unmutated = failing_seeds(plain, q.fixes, true);
    if (!unmutated.ok()) return unmutated.status();
    if (*unmutated == 0) return std::optional<Consequence>();
  }
  std::vector<const KnownDefect*> candidates;  // each defect once (several signatures share a fix)
  for (const KnownDefect& d : known_defects()) {
    const auto same_fix = [&d](const KnownDefect* c) { return c->fix == d.fix; };
    if (std::any_of(candidates.begin(), candidates.end(), same_fix)) continue;
    if (std::find(q.fixes.begin(), q.fixes.end(), d.fix) != q.fixes.end()) continue;
    // A defect that never happened in the failing runs caused nothing there.
    if (!d.trigger_probe.empty() && reached.count(std::string(d.trigger_probe)) == 0) continue;
    candidates.push_back(&d);
  }
  const auto removed_by = [&q](const std::vector<const KnownDefect*>& defects) -> absl::StatusOr<bool> {
    std::vector<engine::Fix> with = q.fixes;
    for (const KnownDefect* d : defects) with.push_back(d->fix);
    absl::StatusOr<std::uint64_t> n = failing_seeds(q, with, true);
    if (!n.ok()) return n.status();
    return *n == 0;
  };
  for (const KnownDefect* d : candidates) {
    absl::StatusOr<bool> removed = removed_by({d});
    if (!removed.ok()) return removed.status();
    if (*removed) return std::optional<Consequence>(Consequence{std::string(d->name), *without});
  }
  absl::StatusOr<bool> all = removed_by(candidates);
  if (!all.ok()) return all.status();
  if (!*all) return std::optional<Consequence>();
  // The fixes it needs: drop runs of them, halving the run's length down to
  // one (each sweep that keeps the failure away costs all 64 seeds), keeping
  // a run where the failure returns without it.
  std::vector<const KnownDefect*> needed = candidates;
  for (std::size_t chunk = std::max<std::size_t>(1, needed.size() / 2);; chunk /= 2) {
    for (std::size_t i = 0; i < needed.size();) {
      const std::size_t end = std::min(needed.size(), i + chunk);
      std::vector<const KnownDefect*> fewer(needed.begin(), needed.begin() + static_cast<std::ptrdiff_t>(i));
      fewer.insert(fewer.end(), needed.begin() + static_cast<std::ptrdiff_t>(end), needed.end());
      absl::StatusOr<bool> removed = removed_by(fewer);
      if (!removed.ok()) return removed.status();
      if (*removed) {
        needed = std::move(fewer);
      } else {
        i = end;
      }
    }
    if (chunk == 1) break;
  }
  std::string names;
  for (const KnownDefect* d : needed) names += (names.empty() ? "" : " + ") + std::string(d->name);
  return std::optional<Consequence>(Consequence{names, *without});
}

std::vector<std::string> consequence_defects(const std::string& defect) {
  std::vector<std::string> names;
  std::size_t from = 0;
  for (std::size_t at = defect.find(" + "); at != std::string::npos; at = defect.find(" + ", from)) {
    names.push_back(defect.substr(from, at - from));
    from = at + 3;
  }
  names.push_back(defect.substr(from));
  return names;
}

absl::StatusOr<bool> label_confirmed(const ConsequenceQuery& q, std::uint64_t seed, engine::Fix fix) {
  std::vector<engine::Fix> with = q.fixes;
  with.push_back(fix);
  absl::StatusOr<std::uint64_t> n = failing_seeds(q, with, true, {seed});
  if (!n.ok()) return n.status();
  return *n == 0;
}

}  // namespace scenarios::hunt
