#include "scenarios/hunt/hunt.h"

#include <chrono>

#include "scenarios/explore.h"
#include "scenarios/hunt/coverage.h"
#include "scenarios/scenario.h"
#include "sim/probe.h"
#include "sim/rng.h"
#include "sim/str.h"

namespace scenarios::hunt {

namespace {
using Clock = std::chrono::steady_clock;

// At most this many scenarios kept for mutation: past it, a new entry
// replaces the oldest (a corpus of generated scenarios is cheap to refill).
constexpr std::size_t kMaxCorpus = 4096;

// The scenario for position i of the hunt: fresh from seed first_seed + i, or,
// with feedback and a corpus, half the time a mutation of a corpus entry
// (one to three mutations stacked).
Generated next_scenario(std::uint64_t seed, const std::vector<Generated>& corpus, sim::Rng& rng,
                        const GenerateOptions& options, bool* mutated) {
  *mutated = false;
  if (corpus.empty() || !rng.chance(1, 2)) return generate(seed, options);
  const Generated& parent = corpus[rng.below(corpus.size())];
  Mutation m = mutate(parent.tape, parent.spans, rng);
  std::string what = m.what;
  const std::uint64_t more = rng.below(3);
  for (std::uint64_t k = 0; k < more; ++k) {
    m = mutate(m.tape, parent.spans, rng);
    what = sim::cat(what, ", ", m.what);
  }
  GenerateOptions o = options;
  o.mutated_from = sim::cat("mutated from ", parent.name, " (", what, ")");
  *mutated = true;
  return generate_from_tape(std::move(m.tape), seed, o);
}

}  // namespace

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
  CoverageMap coverage;
  std::vector<Generated> corpus;
  std::size_t corpus_next = 0;  // the entry a full corpus replaces next
  // The hunt's own choices (which entry, which mutation): from its first seed,
  // so the same hunt makes the same scenarios whatever -j is.
  sim::Rng rng(sim::hash_string(sim::cat("hunt feedback ", options.first_seed)));
  for (std::uint64_t i = 0; i < options.scenarios; ++i) {
    if (options.interrupt != nullptr && *options.interrupt != 0) {
      result.interrupted_by = *options.interrupt;
      break;
    }
    if (options.time_budget_s > 0 && elapsed() > options.time_budget_s) break;
    bool mutated = false;
    Generated g = options.feedback ? next_scenario(options.first_seed + i, corpus, rng, generate_options, &mutated)
                                   : generate(options.first_seed + i, generate_options);
    result.mutated += mutated ? 1 : 0;
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
    std::size_t fresh = 0;
    for (const SeedOutcome& o : swept->outcomes) {
      ++result.runs;
      fresh += coverage.add_run(o.probes);
      for (const auto& [probe, hits] : o.probes) {
        if (hits > 0 && result.probes[probe] == 0) result.first_reached[probe] = g.name;
        result.probes[probe] += hits;
      }
      if (o.ok()) continue;
      ++result.failed_runs;
      auto [it, added] = by_signature.try_emplace(o.signature, result.findings.size());
      if (added) {
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
    if (options.feedback && fresh > 0) {
      if (corpus.size() < kMaxCorpus) {
        corpus.push_back(std::move(g));
      } else {
        corpus[corpus_next] = std::move(g);
        corpus_next = (corpus_next + 1) % kMaxCorpus;
      }
    }
    result.corpus = corpus.size();
    result.coverage_features = coverage.features();
    if (options.progress) {
      options.progress(HuntProgress{result.scenarios, result.runs, result.findings.size(), corpus.size(),
                                    coverage.probes_reached(), coverage.probe_count(), elapsed()});
    }
    if (result.interrupted_by != 0) break;
  }
  result.wall_s = elapsed();
  return result;
}

}  // namespace scenarios::hunt
