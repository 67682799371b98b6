#include "scenarios/hunt/coverage.h"

#include <algorithm>

#include "sim/invariant.h"
#include "sim/probe.h"

namespace scenarios::hunt {

namespace {

enum class FeatureKind : std::uint64_t { kProbe = 1, kBucket = 2, kPair = 3 };

std::uint64_t feature(FeatureKind kind, std::uint64_t a, std::uint64_t b) {
  return (static_cast<std::uint64_t>(kind) << 56) | (a << 28) | b;
}

std::uint64_t bucket(std::uint64_t hits) {
  if (hits <= 3) return hits;
  if (hits < 8) return 4;
  if (hits < 16) return 5;
  if (hits < 32) return 6;
  if (hits < 128) return 7;
  return 8;
}

}  // namespace

CoverageMap::CoverageMap() {
  for (const sim::Probe* p : sim::Probe::all()) names_.emplace_back(p->name());
  std::sort(names_.begin(), names_.end());
  SIM_ASSERT(names_.size() < (1u << 28), "probe ids fit 28 bits");
  probe_seen_.assign(names_.size(), false);
}

std::size_t CoverageMap::add_run(const std::map<std::string, std::uint64_t>& probes) {
  std::vector<std::uint64_t> ids;  // the run's probes, ascending (the map is by name)
  for (const auto& [name, hits] : probes) {
    if (hits == 0) continue;
    const auto it = std::lower_bound(names_.begin(), names_.end(), name);
    SIM_ASSERT(it != names_.end() && *it == name, "a run reported a probe this program does not have: " + name);
    ids.push_back(static_cast<std::uint64_t>(it - names_.begin()));
    if (!probe_seen_[ids.back()]) {
      probe_seen_[ids.back()] = true;
      ++reached_;
    }
  }
  std::size_t fresh = 0;
  std::size_t k = 0;
  for (const auto& [name, hits] : probes) {
    if (hits == 0) continue;
    const std::uint64_t id = ids[k++];
    fresh += seen_.insert(feature(FeatureKind::kProbe, id, 0)).second ? 1 : 0;
    fresh += seen_.insert(feature(FeatureKind::kBucket, id, bucket(hits))).second ? 1 : 0;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t j = i + 1; j < ids.size(); ++j) fresh += seen_.insert(feature(FeatureKind::kPair, ids[i], ids[j])).second ? 1 : 0;
  }
  return fresh;
}

}  // namespace scenarios::hunt
