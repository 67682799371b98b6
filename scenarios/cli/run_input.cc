#include "scenarios/cli/run_input.h"

#include <filesystem>

#include "sim/str.h"

namespace cli {

bool is_repro_path(const std::string& path) { return std::filesystem::path(path).extension() == ".json"; }

RunInput resolve_run(const RunArgs& a) {
  RunInput in;
  if (!is_repro_path(a.file)) {
    in.scenario = load_or_throw(a.file);
    in.text = read_file_or_throw(a.file, "scenario file");
    in.options = options_from(a);
    in.rerun = a.tape_in.empty()
                   ? repro_line(a.file, in.options.seed, in.options.strategy.value_or(in.scenario.strategy).to_string(),
                                in.options.mutants, in.options.fixes)
                   : sim::cat("blksim run ", shell_quote(absolute_path(a.file)), " --seed ", in.options.seed, " --tape ",
                              shell_quote(absolute_path(a.tape_in)), engine_flags(in.options.mutants, in.options.fixes));
    return in;
  }
  if (a.seed != "0" || !a.strategy.empty() || !a.tape_in.empty() || !a.mutants.empty() || !a.fixes.empty()) {
    throw BadInput{sim::cat(a.file, " is a repro file: it fixes the seed, strategy, tape, mutants and fixes (no --seed, "
                            "--strategy, --tape, --mutant or --fix with it)")};
  }
  auto repro = scenarios::load_repro(a.file);
  if (!repro.ok()) throw BadInput{std::string(repro.status().message())};
  auto s = scenarios::repro_scenario(*repro, a.file);
  if (!s.ok()) throw BadInput{std::string(s.status().message())};
  auto o = scenarios::repro_options(*repro, a.file);
  if (!o.ok()) throw BadInput{std::string(o.status().message())};
  in.scenario = *std::move(s);
  in.text = repro->scenario_text;
  in.options = *std::move(o);
  // The repro fixes the run; the wall-clock budget is the machine's, from the flag.
  in.options.wall_budget_s = a.wall_budget_s;
  in.rerun = sim::cat("blksim replay ", shell_quote(absolute_path(a.file)));
  in.repro = *std::move(repro);
  return in;
}

}  // namespace cli
