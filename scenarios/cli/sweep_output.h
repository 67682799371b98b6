// What explore and suite print of a sweep: each seed as a JSON line, and the
// failures grouped by signature (124 seeds failing one way are one line with
// a count, not 124 lines).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "scenarios/explore.h"
#include "scenarios/scenario.h"

namespace cli {

struct FailureGroup {
  std::string signature;
  std::vector<std::uint64_t> seeds;  // in seed order
  scenarios::SeedOutcome first;      // the outcome of seeds.front()
};

// Seeds listed per group before "and N more".
inline constexpr std::size_t kGroupSeedsShown = 20;

// A sweep's result, or InternalError.
scenarios::SweepResult sweep_or_throw(const scenarios::Scenario& s, const scenarios::SweepOptions& o);

// One seed's outcome as a JSON object (one line). `shard` is "K/N" or "".
std::string outcome_json(const scenarios::Scenario& s, const scenarios::SeedOutcome& o,
                         const scenarios::SweepOptions& sweep, const std::string& shard);

// The failing outcomes grouped by signature, groups in the order of their first seed.
std::vector<FailureGroup> group_failures(const std::vector<scenarios::SeedOutcome>& outcomes);
// "3 5 9 (and 12 more)".
std::string seed_list(const std::vector<std::uint64_t>& seeds, std::size_t shown = kGroupSeedsShown);

}  // namespace cli
