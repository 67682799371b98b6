// replay and shrink: from a scenario and a seed, or from a repro file.
#include <filesystem>
#include <iostream>

#include "scenarios/cli/commands.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "sim/str.h"

namespace cli {
namespace {

bool is_repro_path(const std::string& path) { return std::filesystem::path(path).extension() == ".json"; }

scenarios::Repro repro_or_throw(const std::string& path) {
  auto repro = scenarios::load_repro(path);
  if (!repro.ok()) throw BadInput{std::string(repro.status().message())};
  return *std::move(repro);
}

scenarios::Scenario repro_scenario_or_throw(const scenarios::Repro& repro) {
  auto s = scenarios::repro_scenario(repro);
  if (!s.ok()) throw BadInput{sim::cat("the repro's scenario: ", s.status().message())};
  return *std::move(s);
}

// The repro fixes the run; the wall-clock budget is the machine's, from the flag.
scenarios::RunOptions repro_options_or_throw(const scenarios::Repro& repro, const RunArgs& a) {
  auto o = scenarios::repro_options(repro);
  if (!o.ok()) throw BadInput{std::string(o.status().message())};
  o->wall_budget_s = a.wall_budget_s;
  return *std::move(o);
}

void reject_run_flags_with_repro(const RunArgs& a) {
  if (a.seed != "0" || !a.strategy.empty() || !a.tape_in.empty() || !a.mutants.empty()) {
    throw BadInput{sim::cat(a.file, " is a repro file: it fixes the seed, strategy, tape and mutants (no --seed, "
                            "--strategy, --tape or --mutant with it)")};
  }
}

}  // namespace

int cmd_replay(const ReplayCmd& a) {
  if (!is_repro_path(a.run.file)) {
    // A scenario and a seed: the same run as `run`, said to be a replay.
    scenarios::Scenario s = load_or_throw(a.run.file);
    scenarios::RunOptions o = options_from(a.run);
    const scenarios::RunResult r = scenarios::run_scenario(s, o);
    if (a.json) {
      std::cout << result_json(s, r, o.mutants) << "\n";
    } else {
      print_result(std::cout, s, r, o.mutants);
    }
    return r.verdict.ok() ? kExitPass : kExitFail;
  }
  reject_run_flags_with_repro(a.run);
  const scenarios::Repro repro = repro_or_throw(a.run.file);
  const scenarios::Scenario s = repro_scenario_or_throw(repro);
  const scenarios::RunOptions o = repro_options_or_throw(repro, a.run);
  const scenarios::RunResult r = scenarios::run_scenario(s, o);
  const scenarios::ReplayComparison c = scenarios::compare_replay(repro, r);
  if (a.json) {
    std::cout << result_json(s, r, o.mutants) << "\n";
  } else {
    print_result(std::cout, s, r, o.mutants);
    std::cout << "expected    " << repro.verdict << (repro.property.empty() ? "" : ": " + repro.property) << ", "
              << repro.events << " events, " << sim::format_fingerprint(repro.fingerprint) << "\n";
  }
  std::cerr << "replay: " << c.summary << "\n";
  if (c.first_difference) {
    // Show what the replay did there (runs are deterministic: run it again).
    scenarios::RunOptions again = o;
    std::string seen = "(the replay ended before it)";
    const std::uint64_t at = *c.first_difference;
    again.observers.push_back([&](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.index == at) seen = event_text(t, e);
    });
    scenarios::run_scenario(s, again);
    std::cerr << "replay: event " << at << " of the replay: " << seen << "\n";
  }
  if (!c.identical) return kExitFail;
  return r.verdict.ok() ? kExitPass : kExitFail;
}

int cmd_shrink(const ShrinkCmd& a) {
  scenarios::ShrinkOptions so;
  std::string text;
  std::string path;
  if (is_repro_path(a.run.file)) {
    reject_run_flags_with_repro(a.run);
    const scenarios::Repro repro = repro_or_throw(a.run.file);
    const scenarios::RunOptions o = repro_options_or_throw(repro, a.run);
    text = repro.scenario_text;
    path = repro.scenario_file;
    so.seed = o.seed;
    so.strategy = o.strategy;
    so.tape = o.tape;
    so.mutants = o.mutants;
    so.wall_budget_s = o.wall_budget_s;
  } else {
    load_or_throw(a.run.file);  // bad input first, with its location
    text = read_file_or_throw(a.run.file, "scenario file");
    path = a.run.file;
    const scenarios::RunOptions o = options_from(a.run);
    so.seed = o.seed;
    so.strategy = o.strategy;
    so.tape = o.tape;
    so.mutants = o.mutants;
    so.wall_budget_s = o.wall_budget_s;
  }
  if (a.max_runs != 0) so.max_runs = a.max_runs;
  so.progress = [](const std::string& step) { std::cerr << "shrink: " << step << "\n"; };
  auto result = scenarios::shrink_failure(text, path, so);
  if (!result.ok()) {
    if (absl::IsFailedPrecondition(result.status())) throw BadInput{std::string(result.status().message())};
    if (absl::IsInvalidArgument(result.status())) throw BadInput{std::string(result.status().message())};
    throw InternalError{std::string(result.status().message())};
  }
  const std::string prefix = a.output.empty()
                                 ? sim::cat(std::filesystem::path(path).stem().string(), ".seed", so.seed, ".shrunk")
                                 : a.output;
  const std::string toml_path = prefix + ".toml";
  const std::string repro_path = prefix + ".repro.json";
  const std::string header = sim::cat("# Shrunk by blksim shrink from ", path, ", seed ", so.seed, ": still fails with ",
                                      result->property, ".\n");
  write_file_atomically(toml_path, header + result->text);
  scenarios::Scenario shrunk = result->scenario;
  shrunk.path = toml_path;
  const scenarios::Repro repro = scenarios::make_repro(shrunk, header + result->text, result->options, result->result);
  write_file_atomically(repro_path, scenarios::repro_to_json(repro));
  std::cout << "property    " << result->property << ": " << result->result.verdict.message << "\n";
  std::cout << "before      " << result->before.to_string() << ", " << result->tape_before << " choices\n";
  std::cout << "after       " << result->after.to_string() << ", " << result->tape_after << " choices\n";
  std::cout << "runs        " << result->runs << "\n";
  std::cout << "scenario    " << toml_path << "\n";
  std::cout << "repro       " << repro_path << "  (blksim replay " << repro_path << ")\n";
  return kExitFail;  // the shrunk case fails, by construction
}

}  // namespace cli
