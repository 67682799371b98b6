// The blksim subcommands. Each returns an exit code and throws BadInput or
// InternalError (see common.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/cli/common.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"

namespace cli {

// At which point of a run a graph or trace is taken: an event index, a virtual
// time, or (both unset) the end.
struct Snapshot {
  std::string at_event;
  std::string at_time;
};

struct RunCmd {
  RunArgs run;
  std::string tape_out;
  std::string trace_out;
  std::string export_dir;
  std::string repro_out;
  bool json = false;
  bool probes = false;
};
int cmd_run(const RunCmd& a);

struct GraphCmd {
  RunArgs run;
  std::string output;
  Snapshot at;
  std::string view;  // whole | snapshot | deadlock; default: snapshot with --at-*, deadlock after one, else whole
  std::size_t max_vertices = 0;
};
int cmd_graph(const GraphCmd& a);

struct TraceCmd {
  RunArgs run;
  std::string format = "text";  // text | jsonl
  std::string output;           // "" : stdout
  Snapshot at;
  std::string node;
  std::string request;
};
int cmd_trace(const TraceCmd& a);

// What explore and suite share: how seeds are swept.
struct SweepArgs {
  std::string strategy;  // "": each scenario's
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  unsigned jobs = 1;
  bool stop_on_first = false;
  double time_budget_s = 0;                               // of the whole sweep; 0: none
  double wall_budget_s = scenarios::kDefaultWallBudgetS;  // of each seed
  bool json = false;
  std::string junit;
  std::string report_dir;
};

struct ExploreCmd {
  RunArgs run;  // run.file, the scenario; the other run options come from `sweep`
  SweepArgs sweep;
  std::string seeds;
  std::string seed_range;
  std::string shard;
  std::string repro_dir;
  bool progress = true;
  bool each = false;  // one line per failing seed instead of one per signature
  std::string resume;      // a resume file: run the seeds it says did not finish
  std::string resume_out;  // where an unfinished sweep writes its resume file
};
int cmd_explore(const ExploreCmd& a);

struct HuntCmd {
  std::uint64_t seed = 0;          // the first generated scenario's seed
  std::uint64_t scenarios = 100;
  std::uint32_t seeds_per = 3;     // runs per scenario
  unsigned jobs = 1;
  double time_budget_s = 0;
  double wall_budget_s = scenarios::kDefaultWallBudgetS;
  bool no_swarm = false;
  bool no_feedback = false;  // no corpus: every scenario fresh from its seed
  bool stop_on_new = false;  // stop after the scenario that shows the first new signature
  std::string shard;         // "K/N": every N-th seed from the K-th
  std::string json_out;      // the result as JSON, for blksim merge
  std::string baseline;      // open findings: signatures (one a line) not counted as new
  bool coverage = false;     // print every probe with its hits, and what no scenario reached
  std::size_t shrink_runs = 500;  // the shrink budget of each new signature (0: no shrinking)
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  std::string out_dir;      // each new signature: its scenario, shrunk scenario, repro and report
  std::string probes_out;   // every probe with its hits
  std::string log;          // a line per scenario: its runs' verdicts and fingerprints
  std::string show;         // print this seed's scenario and stop
  bool progress = true;
};
int cmd_hunt(const HuntCmd& a);

struct SuiteCmd {
  std::string dir;
  std::uint32_t seeds = 0;
  SweepArgs sweep;
  std::string graph_dir;
  std::string baseline;
  std::string write_baseline;
  std::string golden;
  bool update_golden = false;
  std::string resume;      // a suite resume file: run the seeds it says did not finish
  std::string resume_out;  // where an unfinished suite writes its resume file
  std::string probes_out;  // every code probe with its hits over the whole suite
};
int cmd_suite(const SuiteCmd& a);

struct ReplayCmd {
  RunArgs run;  // run.file: a scenario or a repro (.json)
  bool json = false;
};
int cmd_replay(const ReplayCmd& a);

struct ShrinkCmd {
  RunArgs run;  // run.file: a scenario or a repro (.json)
  std::string output;  // prefix of the files written
  std::size_t max_runs = 0;
  bool json = false;
};
int cmd_shrink(const ShrinkCmd& a);

struct ReportCmd {
  RunArgs run;  // run.file: a scenario or a repro (.json)
  std::string output;
  std::string shrunk;  // a shrunk scenario file to include
  bool shrink = false;  // shrink the failure first and include the result
};
int cmd_report(const ReportCmd& a);
// Writes the HTML report of one run to `path`; returns the run's result.
// A shrunk failure written as PREFIX.toml and PREFIX.repro.json, the repro
// read back and replayed (InternalError if it does not replay identically).
struct ShrunkFiles {
  std::string scenario, repro, text, replay_command;
  scenarios::ReplayComparison check;
};
ShrunkFiles write_shrunk(const scenarios::ShrinkResult& result, const std::string& source_path,
                         const scenarios::ShrinkOptions& so, const std::string& prefix, double wall_budget_s);

scenarios::RunResult write_report(const scenarios::Scenario& s, const std::string& scenario_text,
                                  scenarios::RunOptions o, const std::string& repro_command,
                                  const std::string& shrunk_text, const std::string& path);

int cmd_list(const std::string& what, const std::string& dir);

struct BenchCmd {
  std::uint64_t count = 200000;  // -c
  std::uint32_t depth = 64;      // -d
  std::uint32_t size = 4096;     // -s
  bool write = false;            // -w
  int reps = 3;
  std::string oracles = "both";               // off | data | both: which request figures
  std::uint64_t in_flight = 100000;           // also measure this many requests in flight at once (0: not)
  std::string scenarios;  // seeds per CPU-second of each scenario here ("none": not; "": the library)
};
int cmd_bench(const BenchCmd& a);

struct MergeCmd {
  std::vector<std::string> inputs;  // JSON Lines files of explore or suite --json
  std::string junit;
  bool json = false;
  std::string out_dir;  // hunt results: each new signature written, shrunk, as blksim hunt --out
};
int cmd_merge(const MergeCmd& a);
int cmd_merge_hunts(const MergeCmd& a);  // the inputs are blksim hunt --json results

struct ConformCmd {
  std::uint64_t cases = 1000;
  std::string seed = "1";
  std::string only_case;  // run (and print) this case alone
  std::string qemu_io = "/usr/bin/qemu-io";
  std::string work_dir;   // keep images and scenarios here (default: a temporary directory)
  bool shrink = false;    // with --case: shrink a difference too
  bool stop_on_first = false;
  bool verbose = false;
  bool json = false;
  std::vector<std::string> mutants;  // engine mutants on the blksim side
};
int cmd_conform(const ConformCmd& a);

}  // namespace cli
