// blksim: run scenarios, explore seeds, replay and shrink failures, run a suite,
// draw wait graphs and print traces.
//
// Exit codes: 0 every run held its properties, 1 a property failed, 2 bad input
// (unknown flag, missing or malformed file, impossible value), 3 an internal
// error of blksim itself.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/hunt/hunt.h"
#include "scenarios/explore.h"
#include "scenarios/repro.h"
#include "sim/scheduler.h"
#include "sim/str.h"

namespace {

// Every option says its type plainly (N, S, FILE, ...) and its default; a range
// check keeps quiet in the help (the description says the range).
template <typename T>
CLI::Option* option(CLI::App* cmd, const std::string& names, T& var, const std::string& type, std::string help,
                    const std::string& def = "") {
  if (!def.empty()) help += sim::cat(" (default ", def, ")");
  return cmd->add_option(names, var, help)->type_name(type);
}

CLI::Validator range(double lo, double hi) { return CLI::Range(lo, hi).description(""); }

void add_engine_switches(CLI::App* cmd, std::vector<std::string>& mutants, std::vector<std::string>& fixes) {
  option(cmd, "--mutant", mutants, "NAME", "switch on an engine mutant (blksim list mutants); repeatable");
  option(cmd, "--fix", fixes, "NAME", "apply the later fix of a known defect (blksim list fixes); repeatable");
}

void add_wall_budget(CLI::App* cmd, double& budget, std::string_view what) {
  option(cmd, "--wall-budget", budget, "S",
         sim::cat("end ", what, " that takes more than S seconds of real time with verdict wall-budget (0: no limit)"),
         "120")
      ->check(range(0, 1e9));
}

// run, replay, shrink, graph, trace, report: one run, of a scenario and seed or of a repro file.
void add_run_options(CLI::App* cmd, cli::RunArgs& a) {
  option(cmd, "file", a.file, "FILE", "a scenario file (.toml), or a repro file (.json) that fixes the run")->required();
  option(cmd, "--seed", a.seed, "N", "seed of the run", "0");
  option(cmd, "--strategy", a.strategy, "S", "fifo, random, pct, pct:D or replay", "the scenario's");
  option(cmd, "--tape", a.tape_in, "FILE", "replay this choice tape (written by --tape-out); implies --strategy replay");
  add_engine_switches(cmd, a.mutants, a.fixes);
  add_wall_budget(cmd, a.wall_budget_s, "a run");
}

void add_snapshot_options(CLI::App* cmd, cli::Snapshot& s) {
  option(cmd, "--at-event", s.at_event, "N", "up to this event index", "the end");
  option(cmd, "--at-time", s.at_time, "NS", "up to this virtual time in ns", "the end");
}

// explore and suite: many seeds in worker processes.
void add_sweep_options(CLI::App* cmd, cli::SweepArgs& a) {
  option(cmd, "--strategy", a.strategy, "S", "fifo, random, pct or pct:D", "each scenario's");
  add_engine_switches(cmd, a.mutants, a.fixes);
  option(cmd, "-j,--jobs", a.jobs, "N", "worker processes", "1")->check(range(1, scenarios::kMaxWorkers));
  cmd->add_flag("--stop-on-first", a.stop_on_first,
                "stop at the first failing seed (suite: the first failure its scenario and baseline do not expect)");
  option(cmd, "--time-budget", a.time_budget_s, "S", "stop starting seeds after S seconds of wall time (0: no limit)", "0")
      ->check(range(0, 1e9));
  add_wall_budget(cmd, a.wall_budget_s, "a seed");
  cmd->add_flag("--json", a.json, "one JSON object per seed on stdout; the human summary goes to stderr");
  option(cmd, "--junit", a.junit, "FILE", "write a JUnit XML report, one test case per seed");
  option(cmd, "--report-dir", a.report_dir, "DIR", "write an HTML report per new failure here");
}

// The edit distance of two words, for "did you mean".
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  std::size_t best_distance = 3;  // farther than this is no suggestion
  for (const std::string& c : choices) {
    const std::size_t d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

// CLI11's messages, said the way the rest of blksim says things.
std::string rephrase(const CLI::ParseError& e, const CLI::App& app, int argc, char** argv) {
  const std::string what = e.what();
  // By exit code: CLI11 names some errors after the subcommand they occur in.
  const auto code = static_cast<CLI::ExitCodes>(e.get_exit_code());
  const std::string help = [&] {
    for (const CLI::App* sub : app.get_subcommands()) return sim::cat(" (see blksim ", sub->get_name(), " --help)");
    return std::string(" (see blksim --help)");
  }();
  // A first word that is not a command is most likely a mistyped command.
  if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
    const std::string suggestion = nearest(argv[1], subcommand_names(app));
    return sim::cat("unknown command '", argv[1], "'", suggestion.empty() ? "" : sim::cat("; did you mean '", suggestion, "'?"),
                    " (see blksim --help)");
  }
  if (code == CLI::ExitCodes::ExtrasError) {
    // CLI11 lists the extra words last first ("7 --seed"): name the option if there is one.
    const std::size_t colon = what.find(": ");
    std::istringstream words(colon == std::string::npos ? what : what.substr(colon + 2));
    std::string first, option_word;
    for (std::string w; words >> w;) {
      if (first.empty()) first = w;
      if (w.starts_with("-")) option_word = w;
    }
    return option_word.empty() ? sim::cat("unexpected argument '", first, "'", help)
                               : sim::cat("unknown option ", option_word, help);
  }
  if (code == CLI::ExitCodes::RequiredError) {
    if (what.find("subcommand") != std::string::npos) return "missing a command (see blksim --help)";
    return sim::cat("missing ", what.substr(0, what.find(" is required")), help);
  }
  const std::string option_name = what.substr(0, what.find(':'));
  if (code == CLI::ExitCodes::ArgumentMismatch) return sim::cat(option_name, " needs a value", help);
  if (code == CLI::ExitCodes::ValidationError) {
    // "--x: Value -3 not in range 0.000000 to 1000000000.000000" (no std::regex:
    // g++ 12 -O1 with ASan warns inside libstdc++'s regex).
    const std::string value_tag = ": Value ", range_tag = " not in range ", to_tag = " to ";
    const std::size_t v = what.find(value_tag), r = what.find(range_tag), t = what.rfind(to_tag);
    if (v != std::string::npos && r != std::string::npos && t != std::string::npos && v < r && r < t) {
      const auto plain = [](const std::string& number) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", std::strtod(number.c_str(), nullptr));
        return std::string(buf);
      };
      return sim::cat(what.substr(0, v), ": ", what.substr(v + value_tag.size(), r - v - value_tag.size()),
                      " is out of range (expected ", plain(what.substr(r + range_tag.size(), t - r - range_tag.size())),
                      " to ", plain(what.substr(t + to_tag.size())), ")", help);
    }
    return sim::cat(what, help);
  }
  if (code == CLI::ExitCodes::ConversionError) return sim::cat(option_name, ": not a number of the kind it takes", help);
  return sim::cat(what, help);
}

constexpr const char* kFooter = R"(
Exit codes: 0 every run held its properties; 1 a property failed (or a replay
diverged); 2 bad input (with file:line:column and what was expected); 3 an
internal error of blksim; 130/143 a sweep stopped by SIGINT/SIGTERM.
Docs: README.md, docs/user-guide.md, docs/scenario-language.md,
docs/reproduce-a-bug-report.md, docs/reference-defects.md.)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blksim: a deterministic simulator for QEMU's block-layer request engine (block/io.c at 9cdcfd9f7a)",
               "blksim"};
  app.require_subcommand(1);
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("blksim ") + BLKSIM_VERSION + "\nmodels " + scenarios::kReference +
                                        "; its known defects: docs/reference-defects.md");

  cli::RunCmd run_args;
  CLI::App* run = app.add_subcommand("run", "run a scenario once and print its verdict, signature and fingerprint");
  add_run_options(run, run_args.run);
  option(run, "--tape-out", run_args.tape_out, "FILE", "write the run's choice tape here");
  option(run, "--trace-out", run_args.trace_out, "FILE", "stream every trace event here as JSON Lines");
  option(run, "--repro-out", run_args.repro_out, "FILE", "write a repro file (JSON) of this run");
  run->add_flag("--json", run_args.json, "print the result as one JSON object, and nothing else");
  run->add_flag("--probes", run_args.probes, "also print every code probe with the hits this run gave it");
  option(run, "--export-images", run_args.export_dir, "DIR",
         "write each mem node's visible and durable image to DIR/NODE.{visible,durable}.raw (DIR is created)");

  cli::GraphCmd graph_args;
  CLI::App* graph = app.add_subcommand("graph", "run a scenario (or a repro) and draw its wait-for graph");
  add_run_options(graph, graph_args.run);
  add_snapshot_options(graph, graph_args.at);
  option(graph, "-o,--output", graph_args.output, "FILE", "the picture: .dot, .svg or .png")->required();
  option(graph, "--view", graph_args.view, "V",
         "whole (every wait, counts and totals), snapshot (waits open at --at-*), deadlock (the cycle in red)",
         "snapshot with --at-*, deadlock after a deadlock, else whole");
  option(graph, "--max-vertices", graph_args.max_vertices, "N", "group coroutines per job and node past this many", "120")
      ->check(range(1, 100000));

  cli::TraceCmd trace_args;
  CLI::App* trace = app.add_subcommand("trace", "run a scenario (or a repro) and print its event trace");
  add_run_options(trace, trace_args.run);
  add_snapshot_options(trace, trace_args.at);
  option(trace, "--format", trace_args.format, "F", "text or jsonl", "text");
  option(trace, "-o,--output", trace_args.output, "FILE", "write here", "stdout");
  option(trace, "--node", trace_args.node, "NAME", "only events of this node");
  option(trace, "--request", trace_args.request, "ID", "only events of this request id");

  cli::ExploreCmd explore_args;
  CLI::App* explore = app.add_subcommand("explore", "run many seeds in worker processes; failures grouped by signature");
  option(explore, "file", explore_args.run.file, "FILE", "a scenario file (.toml); none with --resume");
  add_sweep_options(explore, explore_args.sweep);
  option(explore, "--seeds", explore_args.seeds, "N", "seeds 0..N-1", "the scenario's seeds");
  option(explore, "--seed-range", explore_args.seed_range, "A..B", "seeds A to B, both included");
  option(explore, "--shard", explore_args.shard, "K/N", "run shard K of N (1-based): every N-th seed from the K-th");
  option(explore, "--repro-dir", explore_args.repro_dir, "DIR", "write a repro file per failing seed here");
  explore->add_flag("--each", explore_args.each, "one line per failing seed, not one per failure signature");
  option(explore, "--resume", explore_args.resume, "FILE",
         "run the seeds a stopped sweep left (its resume file fixes scenario, seeds and options)");
  option(explore, "--resume-out", explore_args.resume_out, "FILE", "where a sweep that stops early writes its resume file",
         "NAME.resume.json");
  bool no_progress = false;
  explore->add_flag("--no-progress", no_progress, "no progress bar, even on a terminal");

  cli::HuntCmd hunt_args;
  CLI::App* hunt = app.add_subcommand("hunt", "generate scenarios from a seed and run them with every oracle on; failures by signature");
  option(hunt, "--seed", hunt_args.seed, "N", "the first scenario's seed (then N+1, ...)", "0");
  option(hunt, "--scenarios", hunt_args.scenarios, "N", "how many scenarios", "100")
      ->check(range(1, scenarios::hunt::kMaxHuntScenarios));
  option(hunt, "--seeds-per", hunt_args.seeds_per, "N", "seeds run per scenario", "3")
      ->check(range(1, scenarios::hunt::kMaxRunSeeds));
  option(hunt, "-j,--jobs", hunt_args.jobs, "N", "worker processes", "1")->check(range(1, scenarios::kMaxWorkers));
  option(hunt, "--time-budget", hunt_args.time_budget_s, "S", "stop generating after S seconds of wall time; the analysis of the failures seen by then ends by S + max(30, S/4) "
         "(0: no limit)", "0")
      ->check(range(0, 1e9));
  add_wall_budget(hunt, hunt_args.wall_budget_s, "a run");
  hunt->add_flag("--no-swarm", hunt_args.no_swarm, "every feature in every scenario but the huge disk, which excludes seven (no swarm subsets)");
  hunt->add_flag("--no-feedback", hunt_args.no_feedback, "no corpus: every scenario fresh from its seed, none mutated");
  hunt->add_flag("--stop-on-new", hunt_args.stop_on_new, "stop after the scenario that shows the first new signature");
  option(hunt, "--shard", hunt_args.shard, "K/N", "shard K of N (1-based): every N-th seed from the K-th, a corpus of its own");
  option(hunt, "--json", hunt_args.json_out, "FILE", "write the result as JSON, for blksim merge");
  option(hunt, "--baseline", hunt_args.baseline, "FILE", "open findings, one signature a line ('#' comments): reported, not counted as new");
  hunt->add_flag("--coverage", hunt_args.coverage, "print every code probe with its hits, and the probes no scenario reached");
  option(hunt, "--shrink-runs", hunt_args.shrink_runs, "N", "runs each new signature's shrink may take, with --out (0: no shrinking)", "500")
      ->check(range(0, 100000));
  add_engine_switches(hunt, hunt_args.mutants, hunt_args.fixes);
  option(hunt, "--out", hunt_args.out_dir, "DIR", "for each new signature: its first scenario, shrunk with a repro, and an HTML report");
  option(hunt, "--probes-out", hunt_args.probes_out, "FILE", "write every code probe with the hunt's hits, one 'NAME HITS' line each");
  option(hunt, "--log", hunt_args.log, "FILE",
         "write a line per scenario as it ends: its name, its text's hash, each run's seed, verdict and fingerprint "
         "(two hunts of the same options write the same file)");
  option(hunt, "--show", hunt_args.show, "SEED|A..B", "print the scenario this seed (or each of these seeds) generates and stop");
  bool hunt_no_progress = false;
  hunt->add_flag("--no-progress", hunt_no_progress, "no progress line, even on a terminal");

  cli::ReplayCmd replay_args;
  CLI::App* replay = app.add_subcommand("replay", "run a repro file (or a scenario and seed) again and compare");
  add_run_options(replay, replay_args.run);
  replay->add_flag("--json", replay_args.json, "print the result as one JSON object");

  cli::ShrinkCmd shrink_args;
  CLI::App* shrink = app.add_subcommand("shrink", "shrink a failing run to the smallest scenario and tape that fail the same way");
  add_run_options(shrink, shrink_args.run);
  option(shrink, "-o,--output", shrink_args.output, "PREFIX", "write PREFIX.toml and PREFIX.repro.json",
         "NAME.seedN.shrunk");
  option(shrink, "--max-runs", shrink_args.max_runs, "N", "search with at most this many runs", "2000")
      ->check(range(1, 1000000));
  shrink->add_flag("--json", shrink_args.json, "print the result as one JSON object (progress goes to stderr)");

  cli::ReportCmd report_args;
  CLI::App* report = app.add_subcommand("report", "write one self-contained HTML report of a run (a repro, or a scenario and seed)");
  add_run_options(report, report_args.run);
  option(report, "-o,--output", report_args.output, "FILE", "the report, an .html file")->required();
  option(report, "--shrunk", report_args.shrunk, "FILE", "a shrunk scenario file to include");
  report->add_flag("--shrink", report_args.shrink, "shrink the failure first and include the shrunk scenario");

  cli::SuiteCmd suite_args;
  CLI::App* suite = app.add_subcommand("suite", "run every scenario of a directory with its seeds");
  option(suite, "dir", suite_args.dir, "DIR", "a directory of scenario files (.toml); none with --resume");
  add_sweep_options(suite, suite_args.sweep);
  option(suite, "--seeds", suite_args.seeds, "N", "seeds per scenario", "each scenario's seeds")
      ->check(range(1, scenarios::kMaxSeeds));
  option(suite, "--graph-dir", suite_args.graph_dir, "DIR", "write each scenario's wait graph (SVG) here");
  option(suite, "--baseline", suite_args.baseline, "FILE", "known failures: defect NAME or SCENARIO SEED KIND[:PROPERTY] lines");
  option(suite, "--probes-out", suite_args.probes_out, "FILE",
         "write every code probe with the hits of the whole suite, one 'NAME HITS' line each, by name");
  option(suite, "--write-baseline", suite_args.write_baseline, "FILE", "write every failure of this run as a baseline");
  option(suite, "--golden", suite_args.golden, "FILE", "golden fingerprints: a changed or missing one fails the suite");
  suite->add_flag("--update-golden", suite_args.update_golden, "write the --golden file with this run's fingerprints");
  option(suite, "--resume", suite_args.resume, "FILE",
         "run the seeds a stopped suite left (its resume file fixes directory, seeds and options)");
  option(suite, "--resume-out", suite_args.resume_out, "FILE", "where a suite that stops early writes its resume file",
         "suite.resume.json");

  cli::BenchCmd bench_args;
  CLI::App* bench = app.add_subcommand("bench", "qemu-img bench's workload through the engine and the null driver: requests per CPU-second");
  option(bench, "-c,--count", bench_args.count, "N", "requests", "200000");
  option(bench, "-d,--depth", bench_args.depth, "N", "requests in flight", "64");
  option(bench, "-s,--size", bench_args.size, "BYTES", "bytes per request", "4096");
  bench->add_flag("-w,--write", bench_args.write, "writes instead of reads");
  option(bench, "--reps", bench_args.reps, "N", "runs per figure (the median is printed)", "3");
  option(bench, "--oracles", bench_args.oracles, "off|data|both", "request figures with the oracles off, the data oracle on, or both",
         "both")
      ->check(CLI::IsMember({"off", "data", "both"}).description(""));
  option(bench, "--in-flight", bench_args.in_flight, "N", "measure memory with this many requests in flight at once (0: skip)",
         "100000");
  option(bench, "--scenarios", bench_args.scenarios, "DIR", "seeds per CPU-second of each scenario in DIR (none: skip)",
         "the library");

  cli::MergeCmd merge_args;
  CLI::App* merge = app.add_subcommand("merge", "combine the JSON Lines results of shards into one summary and JUnit file");
  option(merge, "inputs", merge_args.inputs, "FILE...", "JSON Lines files of explore or suite --json, or blksim hunt --json results")->required();
  option(merge, "--out", merge_args.out_dir, "DIR", "hunt results: write each new signature, shrunk, as blksim hunt --out does");
  option(merge, "--junit", merge_args.junit, "FILE", "write a JUnit XML report of the merged runs");
  merge->add_flag("--json", merge_args.json, "the merged runs as JSON Lines on stdout (the summary goes to stderr)");

  cli::ConformCmd conform_args;
  CLI::App* conform = app.add_subcommand("conform", "compare random qemu-io command sequences on blksim and on real qemu-io");
  option(conform, "--cases", conform_args.cases, "N", "how many cases", "1000")->check(range(1, 10'000'000));
  option(conform, "--seed", conform_args.seed, "N", "the sweep's seed", "1");
  option(conform, "--case", conform_args.only_case, "I", "run only this case and print both command lines");
  option(conform, "--qemu-io", conform_args.qemu_io, "FILE", "the qemu-io binary", "/usr/bin/qemu-io");
  option(conform, "--work", conform_args.work_dir, "DIR", "keep images and generated scenarios here", "a temporary directory");
  conform->add_flag("--shrink", conform_args.shrink, "with --case: shrink a difference");
  conform->add_flag("--stop-on-first", conform_args.stop_on_first, "stop at the first difference");
  conform->add_flag("-v,--verbose", conform_args.verbose, "print every case");
  conform->add_flag("--json", conform_args.json, "print the summary as one JSON object (the human lines go to stderr)");
  option(conform, "--mutant", conform_args.mutants, "NAME", "switch on an engine mutant on the blksim side; repeatable");

  std::string list_what;
  std::string list_dir;
  CLI::App* list = app.add_subcommand("list", "list scenarios, strategies, oracles, mutants, fixes (known defects), drivers, blkdebug events, scenario event actions, request-flags, errnos or the errors oracle's error-table");
  option(list, "what", list_what, "KIND", "scenarios, strategies, oracles, mutants, fixes, drivers, events, actions, request-flags, errnos or error-table")->required();
  option(list, "--dir", list_dir, "DIR", "the scenario directory for 'list scenarios'", "the library");

  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "print this help, or a command's");
  option(help, "command", help_topic, "COMMAND", "the command to explain");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return cli::kExitPass;
  } catch (const CLI::ParseError& e) {
    std::cerr << "blksim: error: " << rephrase(e, app, argc, argv) << "\n";
    return cli::kExitBadInput;
  }
  explore_args.progress = !no_progress;

  try {
    if (*help) {
      if (help_topic.empty()) {
        std::cout << app.help();
        return cli::kExitPass;
      }
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == help_topic) {
          std::cout << sub->help("blksim");
          return cli::kExitPass;
        }
      }
      const std::string suggestion = nearest(help_topic, subcommand_names(app));
      throw cli::BadInput{sim::cat("help: unknown command '", help_topic, "'",
                                   suggestion.empty() ? "" : sim::cat("; did you mean '", suggestion, "'?"))};
    }
    if (*run) return cli::cmd_run(run_args);
    if (*graph) return cli::cmd_graph(graph_args);
    if (*trace) return cli::cmd_trace(trace_args);
    if (*explore) return cli::cmd_explore(explore_args);
    if (*hunt) {
      hunt_args.progress = !hunt_no_progress;
      return cli::cmd_hunt(hunt_args);
    }
    if (*replay) return cli::cmd_replay(replay_args);
    if (*shrink) return cli::cmd_shrink(shrink_args);
    if (*suite) return cli::cmd_suite(suite_args);
    if (*report) return cli::cmd_report(report_args);
    if (*list) return cli::cmd_list(list_what, list_dir.empty() ? cli::library_dir() : list_dir);
    if (*conform) return cli::cmd_conform(conform_args);
    if (*merge) return cli::cmd_merge(merge_args);
    if (*bench) {
      if (bench_args.scenarios.empty()) bench_args.scenarios = cli::library_dir();
      return cli::cmd_bench(bench_args);
    }
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
