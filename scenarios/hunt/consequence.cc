#include "scenarios/hunt/consequence.h"

#include <algorithm>

#include "scenarios/explore.h"
#include "scenarios/known_defects.h"

namespace scenarios::hunt {

namespace {

// With `stop_at_first`, the sweep ends at the first seed failing with the
// signature (a fix that does not remove it is known at once).
absl::StatusOr<std::uint64_t> failing_seeds(const ConsequenceQuery& q, const std::vector<engine::Fix>& fixes,
                                            bool stop_at_first, std::vector<std::uint64_t> seeds = {}) {
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
  absl::StatusOr<SweepResult> swept = sweep(*q.scenario, o);
  if (!swept.ok()) return swept.status();
  std::uint64_t n = 0;
  for (const SeedOutcome& s : swept->outcomes) n += s.signature == q.signature ? 1 : 0;
  return n;
}

}  // namespace

absl::StatusOr<std::optional<Consequence>> consequence_of_known_defect(const ConsequenceQuery& q) {
  absl::StatusOr<std::uint64_t> without = failing_seeds(q, q.fixes, false);
  if (!without.ok()) return without.status();
  if (*without == 0) return std::optional<Consequence>();  // not reproducible on these seeds: nothing to compare
  std::vector<engine::Fix> tried;
  for (const KnownDefect& d : known_defects()) {
    if (std::find(tried.begin(), tried.end(), d.fix) != tried.end()) continue;  // one defect, several signatures
    tried.push_back(d.fix);
    if (std::find(q.fixes.begin(), q.fixes.end(), d.fix) != q.fixes.end()) continue;
    std::vector<engine::Fix> with = q.fixes;
    with.push_back(d.fix);
    absl::StatusOr<std::uint64_t> n = failing_seeds(q, with, true);
    if (!n.ok()) return n.status();
    if (*n == 0) return std::optional<Consequence>(Consequence{std::string(d.name), *without});
  }
  return std::optional<Consequence>();
}

absl::StatusOr<bool> label_confirmed(const ConsequenceQuery& q, std::uint64_t seed, engine::Fix fix) {
  std::vector<engine::Fix> with = q.fixes;
  with.push_back(fix);
  absl::StatusOr<std::uint64_t> n = failing_seeds(q, with, true, {seed});
  if (!n.ok()) return n.status();
  return *n == 0;
}

}  // namespace scenarios::hunt
