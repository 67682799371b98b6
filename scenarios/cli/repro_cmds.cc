// replay and shrink: from a scenario and a seed, or from a repro file.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/run_input.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "sim/str.h"

namespace cli {

int cmd_replay(const ReplayCmd& a) {
  const RunInput in = resolve_run(a.run);
  // A version other than this one is said first: a divergence may be its doing.
  if (in.repro && in.repro->version != BLKSIM_VERSION) {
    std::cerr << "replay: note: " << a.run.file << " was written by blksim " << in.repro->version << ", this is blksim "
              << BLKSIM_VERSION << "\n";
  }
  const scenarios::RunResult r = scenarios::run_scenario(in.scenario, in.options);
  if (a.json) {
    std::cout << result_json(in.scenario, r, in.rerun) << "\n";
  } else {
    print_result(std::cout, in.scenario, r, in.rerun);
  }
  if (!in.repro) return r.verdict.ok() ? kExitPass : kExitFail;  // a scenario and a seed: the same as run
  const scenarios::Repro& repro = *in.repro;
  const scenarios::ReplayComparison c = scenarios::compare_replay(repro, r);
  if (!a.json) {
    std::cout << "expected    " << (repro.signature.empty() ? sim::cat(repro.verdict, repro.property.empty() ? "" : ": " + repro.property)
                                                             : repro.signature)
              << ", " << repro.events << " events, " << sim::format_fingerprint(repro.fingerprint) << "\n";
    std::cout << "replay      " << c.summary << "\n";
  }
  if (c.first_difference) {
    // Show what the replay did there (runs are deterministic: run it again).
    scenarios::RunOptions again = in.options;
    std::string seen = "(the replay ended before it)";
    const std::uint64_t at = *c.first_difference;
    again.observers.push_back([&](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.index == at) seen = event_text(t, e);
    });
    scenarios::run_scenario(in.scenario, again);
    std::cerr << "replay: event " << at << " of the replay: " << seen << "\n";
  }
  if (!c.identical) return kExitFail;
  return r.verdict.ok() ? kExitPass : kExitFail;
}

ShrunkFiles write_shrunk(const scenarios::ShrinkResult& result, const std::string& source_path,
                         const scenarios::ShrinkOptions& so, const std::string& prefix, double wall_budget_s) {
  ShrunkFiles files;
  files.scenario = prefix + ".toml";
  files.repro = prefix + ".repro.json";
  const std::string header = sim::cat("# Shrunk by blksim shrink from ", source_path, ", seed ", so.seed,
                                      ": still fails with ", result.property, ".\n",
                                      result.budget_exhausted
                                          ? sim::cat("# The search stopped at its budget of ", so.max_runs,
                                                     " runs: the smallest failing scenario found so far.\n")
                                          : std::string());
  files.text = header + result.text;
  write_file_atomically(files.scenario, files.text);
  scenarios::Scenario shrunk = result.scenario;
  shrunk.path = files.scenario;
  const scenarios::Repro repro = scenarios::make_repro(shrunk, files.text, result.options, result.result);
  write_file_atomically(files.repro, scenarios::repro_to_json(repro));
  // Re-checked as a user will use it: the repro file, read back, replays identically.
  RunArgs replay_args;
  replay_args.file = files.repro;
  replay_args.wall_budget_s = wall_budget_s;
  const RunInput written = resolve_run(replay_args);
  const scenarios::RunResult again = scenarios::run_scenario(written.scenario, written.options);
  files.check = scenarios::compare_replay(*written.repro, again);
  if (!files.check.identical) {
    throw InternalError{sim::cat(files.repro, ": the shrunk repro does not replay identically: ", files.check.summary)};
  }
  files.replay_command = sim::cat("blksim replay ", shell_quote(absolute_path(files.repro)));
  return files;
}

int cmd_shrink(const ShrinkCmd& a) {
  const RunInput in = resolve_run(a.run);
  scenarios::ShrinkOptions so;
  so.seed = in.options.seed;
  so.strategy = in.options.strategy;
  so.tape = in.options.tape;
  so.mutants = in.options.mutants;
  so.fixes = in.options.fixes;
  so.wall_budget_s = in.options.wall_budget_s;
  if (a.max_runs != 0) so.max_runs = a.max_runs;
  so.images = scenarios::image_store_of(in.scenario);
  so.progress = [](const std::string& step) { std::cerr << "shrink: " << step << "\n"; };  // stderr: --json keeps stdout
  auto result = scenarios::shrink_failure(in.text, in.scenario.path, so);
  if (!result.ok()) {
    if (absl::IsFailedPrecondition(result.status())) throw BadInput{std::string(result.status().message())};
    if (absl::IsInvalidArgument(result.status())) throw BadInput{std::string(result.status().message())};
    throw InternalError{std::string(result.status().message())};
  }
  const std::string prefix =
      a.output.empty() ? sim::cat(std::filesystem::path(in.scenario.path).stem().string(), ".seed", so.seed, ".shrunk")
                       : a.output;
  const ShrunkFiles files = write_shrunk(*result, in.scenario.path, so, prefix, a.run.wall_budget_s);
  const std::string& toml_path = files.scenario;
  const std::string& repro_path = files.repro;
  const scenarios::ReplayComparison& check = files.check;
  if (a.json) {
    nlohmann::ordered_json j;
    j["signature"] = result->property;
    j["message"] = result->result.verdict.message;
    j["before"] = result->before.to_string();
    j["after"] = result->after.to_string();
    j["choices_before"] = result->tape_before;
    j["choices_after"] = result->tape_after;
    j["runs"] = result->runs;
    j["budget_exhausted"] = result->budget_exhausted;
    j["scenario"] = toml_path;
    j["repro"] = repro_path;
    j["checked"] = check.summary;
    j["replay"] = sim::cat("blksim replay ", shell_quote(absolute_path(repro_path)));
    std::cout << j.dump() << "\n";
    return kExitFail;
  }
  std::cout << "signature   " << result->property << "\n";
  std::cout << "message     " << result->result.verdict.message << "\n";
  std::cout << "before      " << result->before.to_string() << ", " << result->tape_before << " choices\n";
  std::cout << "after       " << result->after.to_string() << ", " << result->tape_after << " choices\n";
  std::cout << "runs        " << result->runs
            << (result->budget_exhausted ? sim::cat(" (stopped at --max-runs ", so.max_runs,
                                                    ": the smallest failing scenario found so far)")
                                         : std::string())
            << "\n";
  std::cout << "scenario    " << toml_path << "\n";
  std::cout << "repro       " << repro_path << "\n";
  std::cout << "checked     " << check.summary << "\n";
  std::cout << "replay      blksim replay " << shell_quote(absolute_path(repro_path)) << "\n";
  return kExitFail;  // the shrunk case fails, by construction
}

}  // namespace cli
