#include "scenarios/hunt/hunt.h"

#include <chrono>

#include "scenarios/explore.h"
#include "scenarios/scenario.h"
#include "sim/probe.h"
#include "sim/str.h"

namespace scenarios::hunt {

namespace {
using Clock = std::chrono::steady_clock;
}

absl::StatusOr<HuntResult> run_hunt(const HuntOptions& options) {
  if (options.run_seeds == 0 || options.run_seeds > kMaxRunSeeds) {
    return absl::InvalidArgumentError(sim::cat("seeds per scenario: expected 1 to ", kMaxRunSeeds));
  }
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  HuntResult result;
  // Every probe, reached or not: the map of what the hunt cannot reach yet.
  for (const sim::Probe* p : sim::Probe::all()) result.probes[std::string(p->name())] = 0;
  std::map<std::string, std::size_t> by_signature;
  GenerateOptions generate_options;
  generate_options.swarm = options.swarm;
  generate_options.run_seeds = options.run_seeds;
  for (std::uint64_t i = 0; i < options.scenarios; ++i) {
    if (options.interrupt != nullptr && *options.interrupt != 0) {
      result.interrupted_by = *options.interrupt;
      break;
    }
    if (options.time_budget_s > 0 && elapsed() > options.time_budget_s) break;
    Generated g = generate(options.first_seed + i, generate_options);
    absl::StatusOr<Scenario> scenario = parse_scenario(g.text, sim::cat("<hunt>/", g.name, ".toml"));
    ++result.scenarios;
    if (!scenario.ok()) {
      result.rejected.emplace_back(g.seed, std::string(scenario.status().message()));
      continue;
    }
    SweepOptions sweep_options;
    for (std::uint64_t seed = 0; seed < options.run_seeds; ++seed) sweep_options.seeds.push_back(seed);
    sweep_options.workers = options.workers;
    sweep_options.mutants = options.mutants;
    sweep_options.fixes = options.fixes;
    sweep_options.seed_timeout_s = options.wall_budget_s;
    sweep_options.interrupt = options.interrupt;
    absl::StatusOr<SweepResult> swept = sweep(*scenario, sweep_options);
    if (!swept.ok()) return swept.status();
    if (swept->interrupted_by != 0) result.interrupted_by = swept->interrupted_by;
    for (const SeedOutcome& o : swept->outcomes) {
      ++result.runs;
      for (const auto& [probe, hits] : o.probes) result.probes[probe] += hits;
      if (o.ok()) continue;
      ++result.failed_runs;
      auto [it, fresh] = by_signature.try_emplace(o.signature, result.findings.size());
      if (fresh) {
        Finding f;
        f.signature = o.signature;
        f.known_defect = o.known_defect;
        f.property = o.property;
        f.message = o.message;
        f.first = g;
        f.run_seed = o.seed;
        f.strategy = o.strategy;
        result.findings.push_back(std::move(f));
      }
      ++result.findings[it->second].count;
    }
    if (options.progress) options.progress(result.scenarios, result.runs, result.findings.size());
    if (result.interrupted_by != 0) break;
  }
  result.wall_s = elapsed();
  return result;
}

}  // namespace scenarios::hunt
