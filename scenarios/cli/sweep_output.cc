#include "scenarios/cli/sweep_output.h"

#include <map>

#include <nlohmann/json.hpp>

#include "scenarios/cli/common.h"
#include "sim/str.h"

namespace cli {

scenarios::SweepResult sweep_or_throw(const scenarios::Scenario& s, const scenarios::SweepOptions& o) {
  auto r = scenarios::sweep(s, o);
  if (!r.ok()) throw InternalError{std::string(r.status().message())};
  return *std::move(r);
}

std::string outcome_json(const scenarios::Scenario& s, const scenarios::SeedOutcome& o,
                         const scenarios::SweepOptions& sweep, const std::string& shard) {
  nlohmann::ordered_json j;
  j["scenario"] = s.name;
  j["file"] = s.path;
  if (!shard.empty()) j["shard"] = shard;
  std::vector<std::string> fixes;
  for (engine::Fix f : sweep.fixes) fixes.emplace_back(engine::fix_name(f));
  if (!fixes.empty()) j["fixes"] = fixes;
  j["seed"] = o.seed;
  j["strategy"] = o.strategy;
  j["verdict"] = o.verdict;
  if (!o.ok()) {
    j["property"] = o.property;
    j["signature"] = o.signature;
    if (!o.known_defect.empty()) j["known_defect"] = o.known_defect;
    j["message"] = o.message;
    if (!o.location.empty()) j["location"] = o.location;
    j["details"] = o.details;
    const std::string strategy =
        !o.strategy.empty() ? o.strategy : sweep.strategy ? sweep.strategy->to_string() : s.strategy.to_string();
    j["repro"] = repro_line(s.path, o.seed, strategy, sweep.mutants, sweep.fixes);
  }
  j["events"] = o.events;
  j["fingerprint"] = sim::format_fingerprint(o.fingerprint);
  return j.dump();
}

std::vector<FailureGroup> group_failures(const std::vector<scenarios::SeedOutcome>& outcomes) {
  std::vector<FailureGroup> groups;
  std::map<std::string, std::size_t> index;  // signature -> groups[i]
  for (const scenarios::SeedOutcome& o : outcomes) {
    if (o.ok()) continue;
    auto [it, fresh] = index.emplace(o.signature, groups.size());
    if (fresh) groups.push_back(FailureGroup{o.signature, {}, o});
    groups[it->second].seeds.push_back(o.seed);
  }
  return groups;
}

std::string seed_list(const std::vector<std::uint64_t>& seeds, std::size_t shown) {
  std::string out;
  for (std::size_t i = 0; i < seeds.size() && i < shown; ++i) out += sim::cat(i == 0 ? "" : " ", seeds[i]);
  if (seeds.size() > shown) out += sim::cat(" (and ", seeds.size() - shown, " more)");
  return out;
}

}  // namespace cli
