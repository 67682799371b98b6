// blksim: run scenarios, explore seeds, replay and shrink failures, run a suite,
// draw wait graphs and print traces.
//
// Exit codes: 0 every run held its properties, 1 a property failed, 2 bad input
// (unknown flag, missing or malformed file, impossible value), 3 an internal
// error of blksim itself.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/repro.h"

namespace {

// Explore has neither --tape (seeds differ) nor --wall-budget (its
// --seed-timeout is the per-seed budget).
void add_run_options(CLI::App* cmd, cli::RunArgs& a, bool single_run = true) {
  CLI::Option* file =
      cmd->add_option("file", a.file, single_run ? "scenario file (TOML), or a repro file (.json)" : "scenario file (TOML)");
  if (single_run) file->required();
  if (single_run) cmd->add_option("--seed", a.seed, "seed of the run");
  cmd->add_option("--strategy", a.strategy, "fifo, random, pct, pct:D or replay (default: the scenario's)");
  if (single_run) cmd->add_option("--tape", a.tape_in, "replay this choice tape (written by --tape-out)");
  cmd->add_option("--mutant", a.mutants, "switch on an engine mutant (see list mutants); repeatable");
  cmd->add_option("--fix", a.fixes, "switch on the later fix of a known defect (see list fixes); repeatable");
  if (single_run) {
    cmd->add_option("--wall-budget", a.wall_budget_s,
                    "end a run that takes more than S seconds of real time with verdict wall-budget (0: no limit)")
        ->check(CLI::Range(0.0, 1e9));
  }
}

void add_snapshot_options(CLI::App* cmd, cli::Snapshot& s) {
  cmd->add_option("--at-event", s.at_event, "up to this event index (default: the end)");
  cmd->add_option("--at-time", s.at_time, "up to this virtual time in ns");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blksim: a deterministic simulator for QEMU's block-layer request engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("blksim ") + BLKSIM_VERSION + "\nmodels " + scenarios::kReference +
                                        "; its known defects: docs/reference-defects.md");

  cli::RunCmd run_args;
  CLI::App* run = app.add_subcommand("run", "run a scenario once and print its verdict and fingerprint");
  add_run_options(run, run_args.run);
  run->add_option("--tape-out", run_args.tape_out, "write the run's choice tape to this file");
  run->add_option("--trace-out", run_args.trace_out, "stream every trace event to this file as JSON Lines");
  run->add_option("--repro-out", run_args.repro_out, "write a repro file (JSON) of this run");
  run->add_flag("--json", run_args.json, "print the result as one JSON object");
  run->add_option("--export-images", run_args.export_dir,
                  "write each mem node's visible and durable image to DIR/NODE.{visible,durable}.raw");

  cli::GraphCmd graph_args;
  CLI::App* graph = app.add_subcommand("graph", "run a scenario and draw its wait-for graph");
  add_run_options(graph, graph_args.run);
  add_snapshot_options(graph, graph_args.at);
  graph->add_option("-o,--output", graph_args.output, "output file: .dot, .svg or .png")->required();
  graph->add_option("--view", graph_args.view,
                    "whole (every wait, counts and totals), snapshot (waits open at --at-*), deadlock (the cycle in red, "
                    "the rest faded); default: snapshot with --at-*, deadlock after a deadlock, else whole");
  graph->add_option("--max-vertices", graph_args.max_vertices, "aggregate coroutines per job and node past this many")
      ->check(CLI::Range(1, 100000));

  cli::TraceCmd trace_args;
  CLI::App* trace = app.add_subcommand("trace", "run a scenario and print its event trace");
  add_run_options(trace, trace_args.run);
  add_snapshot_options(trace, trace_args.at);
  trace->add_option("--format", trace_args.format, "text or jsonl");
  trace->add_option("-o,--output", trace_args.output, "write here instead of stdout");
  trace->add_option("--node", trace_args.node, "only events of this node");
  trace->add_option("--request", trace_args.request, "only events of this request id");

  cli::ExploreCmd explore_args;
  CLI::App* explore = app.add_subcommand("explore", "run many seeds in worker processes and report the failing ones");
  add_run_options(explore, explore_args.run, false);
  explore->add_option("--seeds", explore_args.seeds, "seeds 0..N-1 (default: the scenario's count)");
  explore->add_option("--seed-range", explore_args.seed_range, "seeds A..B, both included");
  explore->add_option("-j,--jobs", explore_args.jobs, "worker processes");
  explore->add_option("--shard", explore_args.shard, "run shard K of N (1-based): every N-th seed from the K-th");
  explore->add_flag("--stop-on-first", explore_args.stop_on_first, "stop at the first failing seed");
  explore->add_option("--time-budget", explore_args.time_budget_s, "stop starting seeds after S seconds of wall time")
      ->check(CLI::Range(0.0, 1e9));
  explore->add_option("--seed-timeout", explore_args.seed_timeout_s,
                      "a seed running S seconds of wall time ends with verdict wall-budget; a worker silent 10 s "
                      "longer is killed (hang)")
      ->check(CLI::Range(0.001, 1e9));
  explore->add_flag("--json", explore_args.json, "one JSON object per seed on stdout (the summary goes to stderr)");
  explore->add_option("--junit", explore_args.junit, "write a JUnit XML report (one test case per seed)");
  explore->add_option("--repro-dir", explore_args.repro_dir, "write a repro file per failing seed here");
  explore->add_option("--report-dir", explore_args.report_dir, "write an HTML report per failing seed here");
  explore->add_flag("--each", explore_args.each, "one line per failing seed (default: one line per failure signature)");
  explore->add_option("--resume", explore_args.resume,
                      "run the seeds a stopped sweep left (its resume file fixes scenario, seeds and options)");
  explore->add_option("--resume-out", explore_args.resume_out,
                      "where a sweep that stops early writes its resume file (default NAME.resume.json)");
  bool no_progress = false;
  explore->add_flag("--no-progress", no_progress, "no progress bar even on a terminal");

  cli::ReplayCmd replay_args;
  CLI::App* replay = app.add_subcommand("replay", "run a repro file (or a scenario and seed) again and compare");
  add_run_options(replay, replay_args.run);
  replay->add_flag("--json", replay_args.json, "print the result as one JSON object");

  cli::ShrinkCmd shrink_args;
  CLI::App* shrink = app.add_subcommand("shrink", "shrink a failing run to the smallest scenario and tape that still fail");
  add_run_options(shrink, shrink_args.run);
  shrink->add_option("-o,--output", shrink_args.output, "prefix of the files written (PREFIX.toml, PREFIX.repro.json)");
  shrink->add_option("--max-runs", shrink_args.max_runs, "at most this many runs")->check(CLI::Range(1, 1000000));

  cli::ReportCmd report_args;
  CLI::App* report = app.add_subcommand("report", "write one self-contained HTML report of a run (a repro or a scenario and seed)");
  add_run_options(report, report_args.run);
  report->add_option("-o,--output", report_args.output, "the report, an .html file")->required();
  report->add_option("--shrunk", report_args.shrunk, "a shrunk scenario file to include");
  report->add_flag("--shrink", report_args.shrink, "shrink the failure first and include the shrunk scenario");

  cli::SuiteCmd suite_args;
  CLI::App* suite = app.add_subcommand("suite", "run every scenario of a directory with its default seeds");
  suite->add_option("dir", suite_args.dir, "directory of scenario files")->required();
  suite->add_option("--seeds", suite_args.seeds, "seeds per scenario (default: each scenario's)")
      ->check(CLI::Range(1u, scenarios::kMaxSeeds));
  suite->add_option("-j,--jobs", suite_args.jobs, "worker processes");
  suite->add_option("--graph-dir", suite_args.graph_dir, "write each scenario's wait graph (SVG) here");
  suite->add_flag("--json", suite_args.json, "one JSON object per run on stdout (the summary goes to stderr)");
  suite->add_option("--junit", suite_args.junit, "write a JUnit XML report (one test case per scenario and seed)");
  suite->add_option("--baseline", suite_args.baseline, "known failures: only failures not listed fail the suite");
  suite->add_option("--write-baseline", suite_args.write_baseline, "write every failure of this run as a baseline");
  suite->add_option("--golden", suite_args.golden, "golden fingerprints: a changed one fails the suite for review");
  suite->add_flag("--update-golden", suite_args.update_golden, "rewrite the --golden file with this run's fingerprints");
  suite->add_option("--mutant", suite_args.mutants, "switch on an engine mutant; repeatable");
  suite->add_option("--fix", suite_args.fixes, "switch on the later fix of a known defect; repeatable");
  suite->add_option("--report-dir", suite_args.report_dir, "write an HTML report per new failure here");

  cli::BenchCmd bench_args;
  CLI::App* bench = app.add_subcommand("bench", "qemu-img bench's workload through the engine and the null driver: requests per CPU-second");
  bench->add_option("-c,--count", bench_args.count, "requests");
  bench->add_option("-d,--depth", bench_args.depth, "requests in flight");
  bench->add_option("-s,--size", bench_args.size, "bytes per request");
  bench->add_flag("-w,--write", bench_args.write, "writes instead of reads");
  bench->add_option("--reps", bench_args.reps, "runs per figure (the median is printed)");
  bench->add_option("--oracles", bench_args.oracles, "request figures with the oracles off, the data oracle on, or both")
      ->check(CLI::IsMember({"off", "data", "both"}));
  bench->add_option("--in-flight", bench_args.in_flight,
                    "measure memory with this many requests in flight at once (default 100000; 0: skip)");
  bench->add_option("--scenarios", bench_args.scenarios,
                    "seeds per CPU-second of each scenario in DIR (default scenarios/library; none: skip)");

  cli::MergeCmd merge_args;
  CLI::App* merge = app.add_subcommand("merge", "combine the JSON Lines results of many shards into one summary and JUnit file");
  merge->add_option("inputs", merge_args.inputs, "JSON Lines files (explore or suite --json)")->required();
  merge->add_option("--junit", merge_args.junit, "write a JUnit XML report of the merged runs");
  merge->add_flag("--json", merge_args.json, "the merged runs as JSON Lines on stdout (the summary goes to stderr)");

  cli::ConformCmd conform_args;
  CLI::App* conform = app.add_subcommand("conform", "compare random qemu-io command sequences on blksim and on real qemu-io");
  conform->add_option("--cases", conform_args.cases, "how many cases")->check(CLI::Range(1u, 10'000'000u));
  conform->add_option("--seed", conform_args.seed, "the sweep's seed");
  conform->add_option("--case", conform_args.only_case, "run only this case and print both command lines");
  conform->add_option("--qemu-io", conform_args.qemu_io, "the qemu-io binary");
  conform->add_option("--work", conform_args.work_dir, "keep images and generated scenarios in this directory");
  conform->add_flag("--shrink", conform_args.shrink, "with --case: shrink a difference");
  conform->add_flag("--stop-on-first", conform_args.stop_on_first, "stop at the first difference");
  conform->add_flag("-v,--verbose", conform_args.verbose, "print every case");
  conform->add_option("--mutant", conform_args.mutants, "switch on an engine mutant on the blksim side; repeatable");

  std::string list_what;
  std::string list_dir = "scenarios/library";
  CLI::App* list = app.add_subcommand("list", "list scenarios, strategies, oracles, mutants, fixes (known defects), drivers, fault events or errnos");
  list->add_option("what", list_what, "scenarios, strategies, oracles, mutants, fixes, drivers, events or errnos")->required();
  list->add_option("--dir", list_dir, "the scenario directory for 'list scenarios'");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "blksim: error: " << e.what() << " (see blksim --help)\n";
    return cli::kExitBadInput;
  }
  explore_args.progress = !no_progress;

  try {
    if (*run) return cli::cmd_run(run_args);
    if (*graph) return cli::cmd_graph(graph_args);
    if (*trace) return cli::cmd_trace(trace_args);
    if (*explore) return cli::cmd_explore(explore_args);
    if (*replay) return cli::cmd_replay(replay_args);
    if (*shrink) return cli::cmd_shrink(shrink_args);
    if (*suite) return cli::cmd_suite(suite_args);
    if (*report) return cli::cmd_report(report_args);
    if (*list) return cli::cmd_list(list_what, list_dir);
    if (*conform) return cli::cmd_conform(conform_args);
    if (*merge) return cli::cmd_merge(merge_args);
    if (*bench) return cli::cmd_bench(bench_args);
  } catch (const cli::BadInput& e) {
    std::cerr << "blksim: error: " << e.message << "\n";
    return cli::kExitBadInput;
  } catch (const cli::InternalError& e) {
    std::cerr << "blksim: internal error: " << e.message << "\n";
    return cli::kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "blksim: internal error: " << e.what() << "\n";
    return cli::kExitInternal;
  }
  return cli::kExitBadInput;
}
