// What the hunter counts as reaching something new: code probes (sim/probe.h)
// by name, each probe's hit count in AFL's buckets (1, 2, 3, 4-7, 8-15,
// 16-31, 32-127, 128+), and pairs of probes reached in the same run. A
// generated scenario whose runs add a feature nobody reached joins the corpus.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace scenarios::hunt {

class CoverageMap {
 public:
  // Every probe of the program, by name: ids are positions in name order, the
  // same on every build with the same probes (registration order is not).
  CoverageMap();

  // Adds one run's probes; returns how many features were new.
  std::size_t add_run(const std::map<std::string, std::uint64_t>& probes);

  std::size_t features() const { return seen_.size(); }
  std::size_t probes_reached() const { return reached_; }
  std::size_t probe_count() const { return names_.size(); }

 private:
  std::vector<std::string> names_;  // sorted
  absl::flat_hash_set<std::uint64_t> seen_;  // membership only: never iterated
  std::vector<bool> probe_seen_;
  std::size_t reached_ = 0;
};

}  // namespace scenarios::hunt
