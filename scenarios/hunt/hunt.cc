#include "scenarios/hunt/hunt.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <utility>

#include "scenarios/explore.h"
#include "scenarios/hunt/analyse.h"
#include "scenarios/hunt/consequence.h"
#include "scenarios/hunt/coverage.h"
#include "scenarios/scenario.h"
#include "sim/probe.h"
#include "sim/rng.h"
#include "sim/str.h"

namespace scenarios::hunt {

std::uint64_t hunt_seed(const HuntOptions& options, std::uint64_t i) {
  return options.first_seed + i * options.shard_n + (options.shard_k - 1);
}

namespace {
using Clock = AnalysisClock;

// At most this many scenarios kept for mutation: past it, a new entry
// replaces the oldest (a corpus of generated scenarios is cheap to refill).
constexpr std::size_t kMaxCorpus = 4096;

// The next scenario of the hunt: the next fresh seed or, with feedback and a
// corpus, half the time a mutation of a corpus entry (one to three mutations
// stacked). Fresh seeds come in order whatever the mutations between them,
// so a hunt with feedback reaches every scenario one without does, at most
// twice as late, and the mutations besides.
Generated next_scenario(const HuntOptions& h, std::uint64_t* fresh, std::uint64_t* mutations,
                        const std::vector<Generated>& corpus, sim::Rng& rng, const GenerateOptions& options) {
  if (corpus.empty() || !rng.chance(1, 2)) return generate(hunt_seed(h, (*fresh)++), options);
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
  // Named apart from the fresh seeds (and from other shards' mutations).
  o.name = sim::cat("hunt-", h.first_seed, "-", h.shard_k, "m", (*mutations)++);
  return generate_from_tape(std::move(m.tape), rng.next(), o);
}

}  // namespace



absl::StatusOr<HuntResult> run_hunt(const HuntOptions& options) {
  if (options.run_seeds == 0 || options.run_seeds > kMaxRunSeeds) {
    return absl::InvalidArgumentError(sim::cat("seeds per scenario: expected 1 to ", kMaxRunSeeds));
  }
  if (options.shard_n == 0 || options.shard_k == 0 || options.shard_k > options.shard_n) {
    return absl::InvalidArgumentError("shard: expected K/N with 1 <= K <= N");
  }
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const std::optional<Clock::time_point> deadline = analysis_deadline(options, start);
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
  sim::Rng rng(sim::hash_string(sim::cat("hunt feedback ", options.first_seed, " ", options.shard_k, "/", options.shard_n)));
  std::uint64_t fresh = 0;  // fresh scenarios so far: the next is seed hunt_seed(options, fresh)
  for (std::uint64_t i = 0; i < options.scenarios; ++i) {
    if (options.interrupt != nullptr && *options.interrupt != 0) {
      result.interrupted_by = *options.interrupt;
      break;
    }
    if (options.time_budget_s > 0 && elapsed() > options.time_budget_s) break;
    Generated g = options.feedback ? next_scenario(options, &fresh, &result.mutated, corpus, rng, generate_options)
                                   : generate(hunt_seed(options, fresh++), generate_options);
    absl::StatusOr<Scenario> scenario = parse_scenario(g.text, sim::cat("<hunt>/", g.name, ".toml"));
    ++result.scenarios;
    if (!scenario.ok()) {
      result.rejected.emplace_back(g.seed, std::string(scenario.status().message()));
      continue;
    }
    SweepOptions sweep_options;
    for (std::uint64_t run = 0; run < options.run_seeds; ++run) sweep_options.seeds.push_back(run);
    sweep_options.workers = options.workers;
    sweep_options.mutants = options.mutants;
    sweep_options.fixes = options.fixes;
    sweep_options.seed_timeout_s = options.wall_budget_s;
    sweep_options.interrupt = options.interrupt;
    bool new_signature = false;
    // A failed run: its signature's finding, first seen (and analysed) here,
    // or counted. `behind`: the known defects' fixes the run had on beyond
    // the hunt's.
    const auto consider = [&](const SeedOutcome& o, const SweepOptions& run_options,
                              const std::vector<engine::Fix>& behind) -> absl::Status {
      auto [it, added] = by_signature.try_emplace(o.signature, result.findings.size());
      if (added) {
        Finding f;
        f.behind = behind;
        f.signature = o.signature;
        f.known_defect = o.known_defect;
        f.property = o.property;
        f.message = o.message;
        f.first = g;
        f.run_seed = o.seed;
        f.strategy = o.strategy;
        absl::Status st = analyse_first_failure(f, o, FailureContext{&*scenario, &options, &run_options, deadline});
        if (!st.ok()) return st;
        new_signature = new_signature || f.is_new();
        result.findings.push_back(std::move(f));
      }
      ++result.findings[it->second].count;
      return absl::OkStatus();
    };
    absl::StatusOr<SweepResult> swept = sweep(*scenario, sweep_options);
    if (!swept.ok()) return swept.status();
    if (swept->interrupted_by != 0) result.interrupted_by = swept->interrupted_by;
    if (options.on_scenario) options.on_scenario(g, swept->outcomes);
    std::size_t features = 0;  // coverage features this scenario reached first
    for (const SeedOutcome& o : swept->outcomes) {
      ++result.runs;
      features += coverage.add_run(o.probes);
      for (const auto& [probe, hits] : o.probes) {
        if (hits > 0 && result.probes[probe] == 0) result.first_reached[probe] = g.name;
        result.probes[probe] += hits;
      }
      if (o.ok()) continue;
      ++result.failed_runs;
      absl::Status st = consider(o, sweep_options, {});
      if (!st.ok()) return st;
    }
    // Failures behind known defects: a run that met one stopped there (an
    // assertion ends it) or was judged as its; the same runs again with those
    // defects' fixes show what else fails (as the suite runs its scenarios
    // again with the fixes of their known defects). Verdicts only: coverage
    // is the first runs'. Past the time budget, only as far as the analysis
    // deadline lets them go.
    for (const std::vector<engine::Fix>& fixes :
         fix_sets_behind(swept->outcomes, by_signature, result.findings, options.fixes)) {
      SweepOptions with_fixes = sweep_options;
      with_fixes.fixes.insert(with_fixes.fixes.end(), fixes.begin(), fixes.end());
      absl::StatusOr<SweepResult> again = sweep_by(*scenario, with_fixes, deadline);
      if (absl::IsDeadlineExceeded(again.status())) break;
      if (!again.ok()) return again.status();
      if (again->interrupted_by != 0) result.interrupted_by = again->interrupted_by;
      result.behind_runs += again->outcomes.size();
      for (const SeedOutcome& o : again->outcomes) {
        if (o.ok()) continue;
        absl::Status st = consider(o, with_fixes, fixes);
        if (!st.ok()) return st;
      }
      if (result.interrupted_by != 0) break;
    }
    if (options.feedback && features > 0) {
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
    if (options.stop_on_new && new_signature) {
      result.stopped_at_new = true;
      break;
    }
  }
  result.wall_s = elapsed();
  return result;
}

HuntResult merge_hunts(const std::vector<HuntResult>& parts) {
  HuntResult out;
  std::map<std::string, std::size_t> by_signature;
  std::map<std::string, std::uint64_t> first_seed_of;  // probe -> the seed of first_reached
  const auto seed_of = [](const std::string& name) -> std::uint64_t {
    // "hunt-N": the scenario's seed.
    return name.starts_with("hunt-") ? std::strtoull(name.c_str() + 5, nullptr, 10) : UINT64_MAX;
  };
  for (const HuntResult& p : parts) {
    out.scenarios += p.scenarios;
    out.runs += p.runs;
    out.failed_runs += p.failed_runs;
    out.behind_runs += p.behind_runs;
    out.mutated += p.mutated;
    out.corpus += p.corpus;
    out.wall_s = std::max(out.wall_s, p.wall_s);
    if (out.interrupted_by == 0) out.interrupted_by = p.interrupted_by;
    out.rejected.insert(out.rejected.end(), p.rejected.begin(), p.rejected.end());
    for (const auto& [probe, hits] : p.probes) out.probes[probe] += hits;
    for (const auto& [probe, name] : p.first_reached) {
      auto [it, added] = first_seed_of.try_emplace(probe, seed_of(name));
      if (added || seed_of(name) < it->second) {
        it->second = seed_of(name);
        out.first_reached[probe] = name;
      }
    }
    for (const Finding& f : p.findings) {
      auto [it, added] = by_signature.try_emplace(f.signature, out.findings.size());
      if (added) {
        out.findings.push_back(f);
        continue;
      }
      Finding& kept = out.findings[it->second];
      const std::uint64_t count = kept.count + f.count;
      const bool replace = (f.is_new() && !kept.is_new()) || (f.is_new() == kept.is_new() && f.first.seed < kept.first.seed);
      if (replace) kept = f;
      kept.count = count;
    }
  }
  std::sort(out.rejected.begin(), out.rejected.end());
  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.first.seed < b.first.seed; });
  return out;
}

}  // namespace scenarios::hunt
