// Runs one scenario under one (seed, strategy[, tape]) and judges it.
#pragma once

#include <cstdint>
#include <map>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "engine/fixes.h"
#include "engine/mutations.h"
#include "scenarios/scenario.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "sim/verdict.h"

namespace scenarios {

inline constexpr double kDefaultWallBudgetS = 120;

struct RunOptions {
  std::uint64_t seed = 0;
  std::optional<sim::StrategySpec> strategy;  // default: the scenario's
  sim::ChoiceTape tape;                       // for the replay strategy
  bool trace_all = false;
  std::ostream* trace_stream = nullptr;  // JSON Lines as the run goes
  std::vector<sim::Trace::Observer> observers;
  // If set: after the run, each mem node's visible and durable images as
  // DIR/NODE.visible.raw and DIR/NODE.durable.raw.
  std::string export_dir;
  // Engine mutants switched on for this run only (proving an oracle bites).
  std::vector<engine::Mutant> mutants;
  // Later fixes of known defects, on top of the scenario's own `fixes`.
  std::vector<engine::Fix> fixes;
  // Keep each command's result, and what each read returned (conformance).
  bool record_outcomes = false;
  // Real seconds the run may take before it ends with a wall-budget verdict
  // (0: no limit): a runaway run must not hang a sweep or CI. Not part of a
  // repro: whether it trips depends on the machine.
  double wall_budget_s = kDefaultWallBudgetS;
};

// One command's result, in completion order.
struct CommandOutcome {
  std::string job;
  std::size_t index = 0;  // in the job's command list
  int ret = 0;            // 0 or a negative errno
  std::vector<std::uint8_t> data;  // what a read returned
};

// A fingerprint is kept every kCheckpointEvents events, so that a replay that
// diverges can say where.
inline constexpr std::uint64_t kCheckpointEvents = 256;
// And 16 bits of it after every event of the first kMaxDigestEvents, so that the
// first differing event can be named.
inline constexpr std::uint64_t kMaxDigestEvents = 1 << 20;

struct RunResult {
  sim::Verdict verdict;
  std::string strategy;
  std::uint64_t seed = 0;
  std::uint64_t events = 0;
  std::uint64_t steps = 0;
  std::uint64_t virtual_ns = 0;
  std::uint64_t fingerprint = 0;
  sim::ChoiceTape tape;
  std::optional<std::string> divergence;
  std::uint64_t requests = 0;  // commands completed
  std::uint64_t crashes = 0;
  std::vector<std::uint64_t> checkpoints;  // fingerprint after events kCheckpointEvents, 2x, ...
  std::vector<std::uint16_t> digests;      // low 16 bits of the fingerprint after each event
  int max_poll_depth = 0;
  // Code probes (sim/probe.h) this run reached, by name, with their hits.
  std::map<std::string, std::uint64_t> probes;
  // Those the checks after the run reached through the engine (their reads):
  // kept apart, as coverage counts the run's own; a label may need them.
  std::map<std::string, std::uint64_t> probes_in_checks;
  std::vector<std::string> exported;  // files written for export_dir
  std::string export_error;           // why an export failed, if one did
  std::vector<CommandOutcome> outcomes;  // with RunOptions::record_outcomes
  // The known defect of the reference the failure is (known_defects.h), or "".
  std::string known_defect;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace scenarios
