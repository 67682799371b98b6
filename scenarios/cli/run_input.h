// What a command that runs one scenario was given: a scenario file with a seed
// (and strategy, tape, mutants, fixes), or a repro file that fixes all of them.
// run, replay, shrink, report, graph and trace all start here.
#pragma once

#include <optional>
#include <string>

#include "scenarios/cli/common.h"
#include "scenarios/repro.h"

namespace cli {

struct RunInput {
  scenarios::Scenario scenario;
  std::string text;  // the scenario's text (a repro's embedded one)
  scenarios::RunOptions options;
  std::optional<scenarios::Repro> repro;  // when the input was a repro file
  // The command that runs it again as printed, from any directory.
  std::string rerun;
};

bool is_repro_path(const std::string& path);
// Bad input (exit 2) for anything wrong with the file or the flags; a repro
// is checked against its digests and version first (scenarios/repro.h).
RunInput resolve_run(const RunArgs& a);

}  // namespace cli
