// blksim: run scenarios, draw their wait graphs, run a suite.
//
// Exit codes: 0 every run held its properties, 1 a run failed, 2 bad input
// (unknown flag, missing or malformed file, impossible value).
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/debug_event.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/str.h"
#include "viz/wait_graph.h"

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitBadInput = 2;

struct BadInput {
  std::string message;
};

scenarios::Scenario load_or_throw(const std::string& path) {
  auto scenario = scenarios::load_scenario(path);
  if (!scenario.ok()) throw BadInput{std::string(scenario.status().message())};
  return *std::move(scenario);
}

std::optional<sim::StrategySpec> strategy_or_throw(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto spec = sim::StrategySpec::parse(text);
  if (!spec.ok()) throw BadInput{sim::cat("--strategy: ", spec.status().message())};
  return *spec;
}

void write_file_or_throw(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << data) || !out.flush()) throw BadInput{sim::cat(path, ": cannot write")};
}

std::string repro_line(const scenarios::Scenario& s, const scenarios::RunResult& r) {
  return sim::cat("blksim run ", s.path, " --seed ", r.seed, " --strategy ", r.strategy);
}

// One JSON object for a run (a line of --json output).
std::string result_json(const scenarios::Scenario& s, const scenarios::RunResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = s.name;
  j["file"] = s.path;
  j["seed"] = r.seed;
  j["strategy"] = r.strategy;
  j["verdict"] = sim::verdict_kind_name(r.verdict.kind);
  if (!r.verdict.ok()) {
    j["message"] = r.verdict.message;
    if (!r.verdict.id.empty()) j["invariant"] = r.verdict.id;
    if (!r.verdict.location.empty()) j["location"] = r.verdict.location;
    j["event_index"] = r.verdict.event_index;
    j["time_ns"] = r.verdict.time_ns;
    j["details"] = r.verdict.details;
    j["repro"] = repro_line(s, r);
  }
  j["events"] = r.events;
  j["steps"] = r.steps;
  j["requests"] = r.requests;
  j["virtual_ns"] = r.virtual_ns;
  j["choices"] = r.tape.choices.size();
  j["fingerprint"] = sim::format_fingerprint(r.fingerprint);
  return j.dump();
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab and newlines are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Writes through a temporary file and a rename, so a reader never sees half a file.
void write_file_atomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  write_file_or_throw(tmp, data);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw BadInput{sim::cat(path, ": cannot write (", ec.message(), ")")};
}

void print_result(std::ostream& out, const scenarios::Scenario& s, const scenarios::RunResult& r) {
  out << "scenario    " << s.name << " (" << s.path << ")\n";
  out << "seed        " << r.seed << "\n";
  out << "strategy    " << r.strategy << "\n";
  out << "verdict     " << sim::verdict_kind_name(r.verdict.kind);
  if (!r.verdict.ok()) out << ": " << r.verdict.message;
  out << "\n";
  if (!r.verdict.id.empty()) out << "invariant   " << r.verdict.id << "\n";
  if (!r.verdict.location.empty()) out << "location    " << r.verdict.location << "\n";
  if (!r.verdict.ok()) out << "at          event " << r.verdict.event_index << ", " << r.verdict.time_ns << " ns\n";
  for (const std::string& d : r.verdict.details) out << "            " << d << "\n";
  out << "events      " << r.events << "\n";
  out << "steps       " << r.steps << "\n";
  out << "requests    " << r.requests << "\n";
  out << "virtual     " << r.virtual_ns << " ns\n";
  out << "choices     " << r.tape.choices.size() << "\n";
  if (r.divergence) out << "divergence  " << *r.divergence << "\n";
  out << "fingerprint " << sim::format_fingerprint(r.fingerprint) << "\n";
  if (!r.verdict.ok()) out << "repro       " << repro_line(s, r) << "\n";
}

// CLI11 wraps "-1" and clamps "1e30"-sized integers into a uint64 silently; a
// seed must be exactly the number the user wrote.
std::uint64_t seed_or_throw(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw BadInput{sim::cat("--seed: expected an integer from 0 to 18446744073709551615, got '", text, "'")};
  }
  return value;
}

struct RunArgs {
  std::string file;
  std::string seed = "0";
  std::string strategy;
  std::string tape_in;
  std::string tape_out;
  std::string trace_out;
  std::string export_dir;
  bool json = false;
};

scenarios::RunOptions options_from(const RunArgs& a) {
  scenarios::RunOptions o;
  o.seed = seed_or_throw(a.seed);
  o.strategy = strategy_or_throw(a.strategy);
  if (!a.tape_in.empty()) {
    std::ifstream in(a.tape_in);
    if (!in) throw BadInput{sim::cat(a.tape_in, ": cannot open choice tape")};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto tape = sim::ChoiceTape::parse(text);
    if (!tape.ok()) throw BadInput{sim::cat(a.tape_in, ": ", tape.status().message())};
    o.tape = *tape;
    if (!o.strategy) o.strategy = sim::StrategySpec{sim::StrategySpec::Kind::kReplay, 3};
    if (o.strategy->kind != sim::StrategySpec::Kind::kReplay) {
      throw BadInput{"--tape goes with --strategy replay (or no --strategy)"};
    }
  } else if (o.strategy && o.strategy->kind == sim::StrategySpec::Kind::kReplay) {
    throw BadInput{"--strategy replay needs --tape FILE (a tape written by --tape-out)"};
  }
  return o;
}

int cmd_run(const RunArgs& a) {
  scenarios::Scenario s = load_or_throw(a.file);
  scenarios::RunOptions o = options_from(a);
  std::ofstream trace_file;
  if (!a.trace_out.empty()) {
    trace_file.open(a.trace_out, std::ios::trunc);
    if (!trace_file) throw BadInput{sim::cat(a.trace_out, ": cannot write")};
    o.trace_stream = &trace_file;
  }
  if (!a.export_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(a.export_dir, ec)) throw BadInput{sim::cat("--export-images: ", a.export_dir, ": not a directory")};
    o.export_dir = a.export_dir;
  }
  scenarios::RunResult r = scenarios::run_scenario(s, o);
  if (!r.export_error.empty()) throw BadInput{sim::cat("--export-images: ", r.export_error)};
  if (a.json) {
    std::cout << result_json(s, r) << "\n";
  } else {
    print_result(std::cout, s, r);
  }
  for (const std::string& path : r.exported) std::cout << "exported    " << path << "\n";
  if (!a.tape_out.empty()) write_file_or_throw(a.tape_out, r.tape.to_string() + "\n");
  return r.verdict.ok() ? kExitPass : kExitFail;
}

std::string extension_of(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  return ext.empty() ? ext : ext.substr(1);
}

// Runs with a wait-graph observer and writes the graph in the format the output's
// extension names.
scenarios::RunResult write_graph(const scenarios::Scenario& s, scenarios::RunOptions o, const std::string& out_path) {
  std::string format = extension_of(out_path);
  if (format != "dot" && format != "svg" && format != "png") {
    throw BadInput{sim::cat(out_path, ": unknown graph format '", format, "' (expected .dot, .svg or .png)")};
  }
  auto graph = std::make_shared<viz::WaitGraph>();
  o.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
  scenarios::RunResult r = scenarios::run_scenario(s, o);
  if (format == "dot") {
    write_file_or_throw(out_path, graph->to_dot());
  } else {
    auto rendered = graph->render(format);
    if (!rendered.ok()) throw BadInput{sim::cat(out_path, ": ", rendered.status().message())};
    write_file_or_throw(out_path, *rendered);
  }
  return r;
}

int cmd_graph(const RunArgs& a, const std::string& out_path) {
  scenarios::Scenario s = load_or_throw(a.file);
  scenarios::RunResult r = write_graph(s, options_from(a), out_path);
  std::cout << "verdict     " << sim::verdict_kind_name(r.verdict.kind) << "\n";
  std::cout << "fingerprint " << sim::format_fingerprint(r.fingerprint) << "\n";
  std::cout << "wait graph  " << out_path << "\n";
  return r.verdict.ok() ? kExitPass : kExitFail;
}

struct SuiteArgs {
  std::string dir;
  std::uint32_t seeds = 0;
  std::string graph_dir;
  bool json = false;
  std::string junit;
};

int cmd_suite(const SuiteArgs& args) {
  const std::string& dir = args.dir;
  const std::uint32_t seeds_override = args.seeds;
  const std::string& graph_dir = args.graph_dir;
  std::ostream& human = args.json ? std::cerr : std::cout;  // --json keeps stdout for JSON Lines
  std::string junit_cases;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": not a directory")};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw BadInput{sim::cat(dir, ": no scenario files (*.toml)")};
  std::vector<scenarios::Scenario> loaded;
  for (const std::string& f : files) loaded.push_back(load_or_throw(f));  // all-or-nothing: bad input first
  if (!graph_dir.empty()) std::filesystem::create_directories(graph_dir, ec);

  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  for (const scenarios::Scenario& s : loaded) {
    std::uint32_t seeds = seeds_override != 0 ? seeds_override : s.seeds;
    std::uint64_t failed = 0;
    std::uint64_t events = 0;
    std::optional<scenarios::RunResult> first_failure;
    for (std::uint32_t seed = 0; seed < seeds; ++seed) {
      scenarios::RunOptions o;
      o.seed = seed;
      scenarios::RunResult r = scenarios::run_scenario(s, o);
      ++runs;
      events += r.events;
      if (args.json) std::cout << result_json(s, r) << "\n";
      std::string testcase = sim::cat("    <testcase classname=\"", xml_escape(s.name), "\" name=\"seed ", seed, "\">");
      if (!r.verdict.ok()) {
        testcase += sim::cat("<failure type=\"", sim::verdict_kind_name(r.verdict.kind), "\" message=\"",
                             xml_escape(r.verdict.message), "\">", xml_escape(repro_line(s, r)), "</failure>");
      }
      junit_cases += testcase + "</testcase>\n";
      if (!r.verdict.ok()) {
        ++failed;
        if (!first_failure) first_failure = r;
      }
    }
    failures += failed;
    human << (failed == 0 ? "PASS " : "FAIL ") << s.name << ": " << seeds - failed << "/" << seeds
              << " seeds held, " << events << " events, strategy " << s.strategy.to_string() << "\n";
    if (first_failure) {
      human << "     first failure: seed " << first_failure->seed << ": "
                << sim::verdict_kind_name(first_failure->verdict.kind) << ": " << first_failure->verdict.message
                << "\n     repro: " << repro_line(s, *first_failure) << "\n";
    }
    if (!graph_dir.empty()) {
      scenarios::RunOptions o;
      o.seed = first_failure ? first_failure->seed : 0;
      std::string out = sim::cat(graph_dir, "/", s.name, ".svg");
      write_graph(s, o, out);
      human << "     wait graph (seed " << o.seed << "): " << out << "\n";
    }
  }
  human << "summary: " << loaded.size() << " scenarios, " << runs << " runs, " << runs - failures << " held, "
        << failures << " failed\n";
  if (!args.junit.empty()) {
    write_file_atomically(args.junit, sim::cat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"blksim\" tests=\"",
                                               runs, "\" failures=\"", failures, "\">\n  <testsuite name=\"",
                                               xml_escape(dir), "\" tests=\"", runs, "\" failures=\"", failures, "\">\n",
                                               junit_cases, "  </testsuite>\n</testsuites>\n"));
  }
  return failures == 0 ? kExitPass : kExitFail;
}

int cmd_list(const std::string& what, const std::string& dir) {
  if (what == "strategies") {
    std::cout << "fifo      oldest ready event first (QEMU's order)\n"
                 "random    uniformly random among ready events\n"
                 "pct:D     probabilistic concurrency testing with bug depth D (1.." << sim::kMaxPctDepth << ", pct = pct:3)\n"
                 "replay    follow a recorded choice tape (--tape)\n";
  } else if (what == "drivers") {
    std::cout << "mem       protocol: memory with a volatile write cache, crash modes, every limit\n"
                 "null      protocol: completes without data, for speed\n"
                 "raw       format: passes everything to its file\n"
                 "cow       format: clusters with a table in its file, optional backing\n"
                 "fault     filter: blkdebug's rules, latencies, breakpoints and limits\n";
  } else if (what == "events") {
    for (int i = 0; i <= static_cast<int>(engine::BlkdebugEvent::kL2Update); ++i) {
      std::cout << engine::blkdebug_event_name(static_cast<engine::BlkdebugEvent>(i)) << "\n";
    }
  } else if (what == "errnos") {
    std::cout << "EIO ENOTSUP ENOSPC ENOMEDIUM EPERM EINVAL EACCES EROFS ENOMEM EAGAIN\n";
  } else if (what == "scenarios") {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": not a directory")};
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      scenarios::Scenario s = load_or_throw(f);
      std::cout << s.name << "  (" << f << ", " << s.seeds << " seeds, " << s.strategy.to_string() << ")";
      if (!s.description.empty()) std::cout << ": " << s.description;
      std::cout << "\n";
    }
  } else {
    throw BadInput{sim::cat("list: unknown kind '", what, "' (expected scenarios, strategies, drivers, events or errnos)")};
  }
  return kExitPass;
}

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("file", a.file, "scenario file (TOML)")->required();
  cmd->add_option("--seed", a.seed, "seed of the run");
  cmd->add_option("--strategy", a.strategy, "fifo, random, pct, pct:D or replay (default: the scenario's)");
  cmd->add_option("--tape", a.tape_in, "replay this choice tape (written by --tape-out)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blksim: a deterministic simulator for QEMU's block-layer request engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("blksim ") + BLKSIM_VERSION);

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "run a scenario once and print its verdict and fingerprint");
  add_run_options(run, run_args);
  run->add_option("--tape-out", run_args.tape_out, "write the run's choice tape to this file");
  run->add_option("--trace-out", run_args.trace_out, "stream every trace event to this file as JSON Lines");
  run->add_flag("--json", run_args.json, "print the result as one JSON object");
  run->add_option("--export-images", run_args.export_dir,
                  "write each mem node's visible and durable image to DIR/NODE.{visible,durable}.raw");

  RunArgs graph_args;
  std::string graph_out;
  CLI::App* graph = app.add_subcommand("graph", "run a scenario and draw its wait-for graph");
  add_run_options(graph, graph_args);
  graph->add_option("-o,--output", graph_out, "output file: .dot, .svg or .png")->required();

  SuiteArgs suite_args;
  CLI::App* suite = app.add_subcommand("suite", "run every scenario of a directory with its default seeds");
  suite->add_option("dir", suite_args.dir, "directory of scenario files")->required();
  suite->add_option("--seeds", suite_args.seeds, "seeds per scenario (default: each scenario's)")
      ->check(CLI::Range(1u, scenarios::kMaxSeeds));
  suite->add_option("--graph-dir", suite_args.graph_dir, "write each scenario's wait graph (SVG) here");
  suite->add_flag("--json", suite_args.json, "one JSON object per run on stdout (the summary goes to stderr)");
  suite->add_option("--junit", suite_args.junit, "write a JUnit XML report (one test case per scenario and seed)");

  std::string list_what;
  std::string list_dir = "scenarios/library";
  CLI::App* list = app.add_subcommand("list", "list scenarios, strategies, drivers, fault events or errno names");
  list->add_option("what", list_what, "scenarios, strategies, drivers, events or errnos")->required();
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
    return kExitBadInput;
  }

  try {
    if (*run) return cmd_run(run_args);
    if (*graph) return cmd_graph(graph_args, graph_out);
    if (*suite) return cmd_suite(suite_args);
    if (*list) return cmd_list(list_what, list_dir);
  } catch (const BadInput& e) {
    std::cerr << "blksim: error: " << e.message << "\n";
    return kExitBadInput;
  }
  return kExitBadInput;
}
