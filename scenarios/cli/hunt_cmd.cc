// blksim hunt: generated scenarios, every oracle on, failures by signature;
// each new signature shrunk, written with a repro and an HTML report.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "scenarios/cli/commands.h"
#include "scenarios/hunt/consequence.h"
#include "scenarios/hunt/hunt.h"
#include "scenarios/hunt/hunt_json.h"
#include "sim/probe.h"
#include "sim/rng.h"
#include "sim/str.h"
#include "sim/trace.h"

namespace cli {

namespace {

// `hunt --show A..B` prints at most this many scenarios.
constexpr std::uint64_t kMostShownScenarios = 100'000;

std::string one_decimal(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", x);
  return text;
}

std::string seed_span(std::uint64_t first, std::uint64_t count) {
  return count == 1 ? sim::cat(first) : sim::cat(first, "..", first + count - 1);
}

void write_probes(const std::string& path, const std::map<std::string, std::uint64_t>& probes) {
  std::string text;
  for (const auto& [name, hits] : probes) text += sim::cat(name, " ", hits, "\n");
  write_file_atomically(path, text);
}

// `blksim hunt --coverage`: every probe, reached or not, with what it means.
void print_coverage(const scenarios::hunt::HuntResult& r) {
  std::map<std::string, std::string_view> what;
  for (const sim::Probe* p : sim::Probe::all()) what[std::string(p->name())] = p->what();
  std::cout << "probes reached:\n";
  for (const auto& [name, hits] : r.probes) {
    if (hits == 0) continue;
    std::cout << "  " << name << " " << hits << " (first " << r.first_reached.at(name) << ")\n";
  }
  std::cout << "probes no scenario reached:\n";
  for (const auto& [name, hits] : r.probes) {
    if (hits == 0) std::cout << "  " << name << ": " << what[name] << "\n";
  }
}

// What --out holds for one new signature, for the summary table.
struct Written {
  std::string scenario;  // the first generated scenario that showed it
  std::string shrunk;    // its shrunk scenario, or "" (not shrunk: why in `size`)
  std::string size;      // the shrunk size, or why there is none
  std::string repro_line;
};

// Shrinks a new signature's first scenario, keeping the signature, and writes
// it with its repro and an HTML report of the shrunk run.
Written write_finding(const scenarios::hunt::Finding& f, const std::string& dir, const HuntCmd& a,
                      const std::vector<engine::Mutant>& mutants, const std::vector<engine::Fix>& fixes) {
  Written w;
  w.scenario = sim::cat(dir, "/", f.first.name, ".toml");
  write_file_or_throw(w.scenario, f.first.text);
  w.repro_line = repro_line(absolute_path(w.scenario), f.run_seed, f.strategy, mutants, fixes);
  // A worker's crash or hang cannot be re-run in this process.
  if (f.signature.starts_with("crash [") || f.signature == "hang") {
    w.size = "not shrunk (a crash of the worker: shrink it with blksim shrink in a process of its own)";
    return w;
  }
  if (a.shrink_runs == 0) {
    w.size = "not shrunk (--shrink-runs 0)";
    return w;
  }
  scenarios::ShrinkOptions so;
  so.seed = f.run_seed;
  so.mutants = mutants;
  so.fixes = fixes;
  so.wall_budget_s = a.wall_budget_s;
  so.max_runs = a.shrink_runs;
  auto shrunk = scenarios::shrink_failure(f.first.text, w.scenario, so);
  if (!shrunk.ok()) {
    // The first run failed in a worker but not here: flaky across processes,
    // which is itself worth a look; the original is written.
    w.size = sim::cat("not shrunk: ", shrunk.status().message());
    return w;
  }
  if (shrunk->property != f.signature) {
    w.size = sim::cat("not shrunk: the run here fails as ", shrunk->property);
    return w;
  }
  const std::string prefix = sim::cat(dir, "/", f.first.name, ".shrunk");
  const ShrunkFiles files = write_shrunk(*shrunk, w.scenario, so, prefix, a.wall_budget_s);
  w.shrunk = files.scenario;
  w.size = shrunk->after.to_string();
  w.repro_line = files.replay_command;
  scenarios::Scenario s = shrunk->scenario;
  s.path = files.scenario;
  write_report(s, files.text, shrunk->options, files.replay_command, files.text, prefix + ".html");
  return w;
}

void make_out_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": cannot create the directory")};
}

// How a hunt's result is told: what it covered, and what to write.
struct HuntReport {
  std::string covered;  // "seeds 0..299, swarm, 160 mutated"
  bool merged = false;  // coverage features do not add up across shards
  bool show_hint = true;  // `hunt --show SEED` gives a fresh scenario back
  const HuntCmd* cmd = nullptr;
  std::vector<engine::Mutant> mutants;
  std::vector<engine::Fix> fixes;
};

// A baseline of open findings: the signatures of failures found and not yet
// fixed or labelled, one a line, '#' for comments (why each is open).
std::set<std::string> read_open_findings(const std::string& path) {
  std::set<std::string> out;
  if (path.empty()) return out;
  std::istringstream in(read_file_or_throw(path, "baseline"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("#")) continue;
    out.insert(line);
  }
  return out;
}

int report_hunt(const scenarios::hunt::HuntResult& r, const HuntReport& rep) {
  const HuntCmd& a = *rep.cmd;
  const std::set<std::string> open = read_open_findings(a.baseline);
  std::size_t open_seen = 0;  // (merged results: shards read the same baseline)
  std::uint64_t reached = 0;
  for (const auto& [name, hits] : r.probes) reached += hits > 0 ? 1 : 0;
  std::cout << "hunt: " << r.scenarios << " scenarios (" << rep.covered << "), " << r.runs << " runs, " << r.failed_runs
            << " failed"
            << (r.behind_runs > 0 ? sim::cat(" (and ", r.behind_runs, " again with the fixes of the known defects they met)")
                                  : "")
            << ", in " << one_decimal(r.wall_s) << " s; " << reached << " of " << r.probes.size() << " probes reached"
            << (a.no_feedback ? ""
                : rep.merged ? sim::cat("; corpora ", r.corpus)
                             : sim::cat("; corpus ", r.corpus, ", ", r.coverage_features, " coverage features"))
            << "\n";
  std::uint64_t fresh = 0;
  std::uint64_t unanalysed = 0;  // cut off by the time budget: neither new nor known
  std::vector<std::pair<const scenarios::hunt::Finding*, Written>> table;
  for (const scenarios::hunt::Finding& f : r.findings) {
    const bool in_baseline = f.open_finding || (f.is_new() && open.contains(f.signature));
    open_seen += in_baseline ? 1 : 0;
    const std::string label = in_baseline                 ? "open finding (baseline): "
                              : f.is_new()                ? "NEW   "
                              : f.unanalysed              ? "NOT ANALYSED (time budget): "
                              : f.without_mutant          ? "without the mutant too: "
                              : f.simulator_limit()       ? "simulator limit, no verdict on the engine: "
                              : !f.known_defect.empty() ? sim::cat("known defect ", f.known_defect, ": ")
                                                        : sim::cat("known defect ", f.consequence_of, " (consequence): ");
    std::cout << label << f.signature << ": " << f.count << " run" << (f.count == 1 ? "" : "s") << ", first "
              << f.first.name << " seed " << f.run_seed << "\n";
    if (!f.refuted_label.empty()) {
      std::cout << "      its shape is known defect " << f.refuted_label << "'s, but " << f.first.name << " seed "
                << f.run_seed << " fails the same way with --fix "
                << f.refuted_label << ": not that defect\n";
    }
    if (!f.consequence_of.empty()) {
      std::cout << "      holds with";
      for (const std::string& name : scenarios::hunt::consequence_defects(f.consequence_of)) std::cout << " --fix " << name;
      std::cout << " on all " << scenarios::hunt::kConsequenceSeeds
                << " seeds of " << f.first.name << "; fails on " << f.consequence_failing << " of them without it\n";
    }
    if (f.unanalysed && !in_baseline) {
      ++unanalysed;
      std::cout << "      the hunt's time budget (and its analysis grace) ended before this failure was told apart from "
                   "the known defects: a larger --time-budget, or a hunt of this scenario alone, analyses it\n"
                << "      " << f.message << "\n";
      if (f.first.text.starts_with("# generated by blksim hunt, seed")) {
        std::cout << "      scenario: blksim hunt --show " << f.first.seed << (a.no_swarm ? " --no-swarm" : "") << "\n";
      }
      continue;
    }
    if (!f.is_new() || in_baseline) continue;
    ++fresh;
    if (!f.behind.empty()) {
      std::cout << "      behind known defects: it fails so with";
      for (engine::Fix fix : f.behind) std::cout << " --fix " << engine::fix_name(fix);
      std::cout << " on (the scenario's first runs failed with those defects)\n";
    }
    std::cout << "      " << f.message << "\n      swarm: " << f.first.swarm.describe() << "\n";
    if (!a.out_dir.empty()) {
      std::vector<engine::Fix> fixes = rep.fixes;
      fixes.insert(fixes.end(), f.behind.begin(), f.behind.end());
      Written w = write_finding(f, a.out_dir, a, rep.mutants, fixes);
      std::cout << "      scenario: " << w.scenario << "\n";
      if (!w.shrunk.empty()) std::cout << "      shrunk: " << w.shrunk << " (" << w.size << ")\n";
      std::cout << "      repro: " << w.repro_line << "\n";
      table.emplace_back(&f, std::move(w));
    } else if (rep.show_hint && f.first.text.starts_with("# generated by blksim hunt, seed")) {
      std::cout << "      scenario: blksim hunt --show " << f.first.seed << (a.no_swarm ? " --no-swarm" : "")
                << (a.seeds_per != 3 ? sim::cat(" --seeds-per ", a.seeds_per) : "")
                << " (--out DIR writes it, shrunk, with a repro and a report)\n";
    } else {
      std::cout << "      scenario: --out DIR writes it, shrunk, with a repro and a report\n";
    }
  }
  if (!table.empty()) {
    std::cout << "new signatures (" << a.out_dir << "):\n";
    for (const auto& [f, w] : table) {
      std::cout << "  " << f->signature << " | first " << f->first.name << " | " << f->count << " run"
                << (f->count == 1 ? "" : "s") << " | shrunk " << w.size << "\n";
    }
  }
  for (const auto& [seed, message] : r.rejected) {
    std::cout << "GENERATOR BUG: the scenario of seed " << seed << " does not parse: " << message << "\n";
  }
  if (a.coverage) print_coverage(r);
  if (!a.probes_out.empty()) write_probes(a.probes_out, r.probes);
  const std::size_t known = r.findings.size() - fresh - open_seen - unanalysed;
  std::cout << "summary: " << fresh << " new signature" << (fresh == 1 ? "" : "s") << ", " << known
            << " known defect signature" << (known == 1 ? "" : "s") << ", "
            << (unanalysed > 0 ? sim::cat(unanalysed, " not analysed within the time budget, ") : "")
            << (a.baseline.empty() ? "" : sim::cat(open_seen, " of ", open.size(), " open findings of the baseline, "))
            << r.rejected.size() << " generated scenarios refused by the parser\n";
  if (r.interrupted_by != 0) return 128 + r.interrupted_by;
  if (!r.rejected.empty()) return kExitInternal;
  // A failure not told apart from the known defects is no pass.
  return fresh > 0 || unanalysed > 0 ? kExitFail : kExitPass;
}

std::string covered(const scenarios::hunt::HuntOptions& o, std::uint64_t scenarios, std::uint64_t mutated) {
  // The fresh seeds: every scenario not mutated.
  const std::uint64_t n = std::max<std::uint64_t>(scenarios - std::min(scenarios, mutated), 1);
  std::string seeds;
  if (o.shard_n == 1) {
    seeds = sim::cat("seeds ", seed_span(o.first_seed, n));
  } else {
    seeds = sim::cat("shard ", o.shard_k, "/", o.shard_n, ": seeds ", scenarios::hunt::hunt_seed(o, 0),
                     n > 1 ? sim::cat(", ", scenarios::hunt::hunt_seed(o, 1), ", ...") : "");
  }
  return sim::cat(seeds, o.swarm ? ", swarm" : ", every feature", o.feedback ? sim::cat(", ", mutated, " mutated") : "");
}

}  // namespace

int cmd_hunt(const HuntCmd& a) {
  if (!a.show.empty()) {
    // One seed, or a range of them one after the other (one process: the
    // cross-build check shows a hundred under the sanitizers).
    const auto [first, last] = a.show.find("..") == std::string::npos
                                   ? std::pair{seed_or_throw(a.show, "--show"), seed_or_throw(a.show, "--show")}
                                   : seed_range_or_throw(a.show, "--show", kMostShownScenarios);
    for (std::uint64_t s = first;; ++s) {
      std::cout << scenarios::hunt::generate(s, {.swarm = !a.no_swarm, .run_seeds = a.seeds_per}).text;
      if (s == last) break;
    }
    return kExitPass;
  }
  scenarios::hunt::HuntOptions o;
  o.first_seed = a.seed;
  o.scenarios = a.scenarios;
  o.run_seeds = a.seeds_per;
  o.workers = a.jobs;
  o.time_budget_s = a.time_budget_s;
  o.wall_budget_s = a.wall_budget_s;
  o.swarm = !a.no_swarm;
  o.feedback = !a.no_feedback;
  o.stop_on_new = a.stop_on_new;
  o.open_findings = read_open_findings(a.baseline);
  if (!a.shard.empty()) std::tie(o.shard_k, o.shard_n) = shard_or_throw(a.shard);
  o.mutants = mutants_or_throw(a.mutants);
  o.fixes = fixes_or_throw(a.fixes);
  make_out_dir(a.out_dir);
  o.interrupt = catch_interrupts();
  const bool tty = a.progress && isatty(STDERR_FILENO) != 0;
  if (tty) {
    o.progress = [&](const scenarios::hunt::HuntProgress& p) {
      std::cerr << "\rhunt: " << p.scenarios << " scenarios (" << one_decimal(p.wall_s > 0 ? p.scenarios / p.wall_s : 0)
                << "/s), " << p.runs << " runs, corpus " << p.corpus << ", probes " << p.probes_reached << "/"
                << p.probes << ", " << p.signatures << " signatures   " << std::flush;
    };
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log(nullptr, &std::fclose);
  if (!a.log.empty()) {
    log.reset(std::fopen(a.log.c_str(), "w"));
    if (log == nullptr) throw BadInput{sim::cat("--log ", a.log, ": cannot write: ", std::strerror(errno))};
    o.on_scenario = [&](const scenarios::hunt::Generated& g, const std::vector<scenarios::SeedOutcome>& runs) {
      std::string line = sim::cat(g.name, " text ", sim::format_fingerprint(sim::hash_string(g.text)));
      for (const scenarios::SeedOutcome& run : runs) {
        line += sim::cat(" | ", run.seed, " ", run.verdict, " ", sim::format_fingerprint(run.fingerprint));
      }
      line += "\n";
      // Line by line, so a hunt that is stopped or crashes leaves what it ran.
      std::fputs(line.c_str(), log.get());
      std::fflush(log.get());
    };
  }
  auto r = scenarios::hunt::run_hunt(o);
  if (tty) std::cerr << "\n";
  if (!r.ok()) throw InternalError{std::string(r.status().message())};
  if (!a.json_out.empty()) {
    scenarios::hunt::HuntHeader h{a.seed, o.shard_k, o.shard_n, a.seeds_per, o.swarm, o.feedback, a.mutants, a.fixes};
    write_file_atomically(a.json_out, scenarios::hunt::hunt_to_json(h, *r));
  }
  HuntReport rep{covered(o, r->scenarios, r->mutated), false, true, &a, o.mutants, o.fixes};
  return report_hunt(*r, rep);
}

int cmd_merge_hunts(const MergeCmd& m) {
  if (!m.junit.empty()) throw BadInput{"merge: --junit is for sweeps; hunt results have no test cases"};
  std::vector<scenarios::hunt::HuntResult> parts;
  std::optional<scenarios::hunt::HuntHeader> header;
  std::set<unsigned> shards;
  for (const std::string& path : m.inputs) {
    auto file = scenarios::hunt::hunt_from_json(read_file_or_throw(path, "hunt result file"), path);
    if (!file.ok()) throw BadInput{std::string(file.status().message())};
    // Shards of one hunt: the same seeds, options and engine switches, each shard once.
    scenarios::hunt::HuntHeader same = file->header;
    same.shard_k = header ? header->shard_k : same.shard_k;
    if (header && !(same == *header)) {
      throw BadInput{sim::cat(path, ": not a shard of the same hunt as ", m.inputs.front(),
                              " (first seed, shard count, seeds per scenario, swarm, feedback, mutants and fixes must agree)")};
    }
    if (!shards.insert(file->header.shard_k).second) {
      throw BadInput{sim::cat(path, ": shard ", file->header.shard_k, "/", file->header.shard_n, " given twice")};
    }
    if (!header) header = file->header;
    parts.push_back(std::move(file->result));
  }
  const scenarios::hunt::HuntHeader& h = *header;
  if (shards.size() != h.shard_n) {
    std::cerr << "merge: " << shards.size() << " of " << h.shard_n << " shards: the result covers only those\n";
  }
  const scenarios::hunt::HuntResult merged = scenarios::hunt::merge_hunts(parts);
  if (m.json) {
    scenarios::hunt::HuntHeader out = h;
    out.shard_k = 1;
    out.shard_n = 1;
    std::cout << scenarios::hunt::hunt_to_json(out, merged);
    return kExitPass;
  }
  HuntCmd a;
  a.no_swarm = !h.swarm;
  a.no_feedback = !h.feedback;
  a.seeds_per = h.run_seeds;
  a.out_dir = m.out_dir;
  a.mutants = h.mutants;
  a.fixes = h.fixes;
  make_out_dir(a.out_dir);
  HuntReport rep{sim::cat(shards.size(), " of ", h.shard_n, " shards from seed ", h.first_seed, h.swarm ? ", swarm" : ", every feature",
                          h.feedback ? sim::cat(", ", merged.mutated, " mutated") : ""),
                 true, true, &a, mutants_or_throw(a.mutants), fixes_or_throw(a.fixes)};
  return report_hunt(merged, rep);
}

}  // namespace cli
