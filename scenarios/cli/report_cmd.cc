// report: one self-contained HTML page for a run (usually a failing one).
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/run_input.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "sim/str.h"
#include "viz/report.h"
#include "viz/timeline.h"
#include "viz/wait_graph.h"

namespace cli {
namespace {

constexpr std::size_t kTraceLines = 80;  // events shown before the failure

}  // namespace

scenarios::RunResult write_report(const scenarios::Scenario& s, const std::string& scenario_text,
                                  scenarios::RunOptions o, const std::string& repro_command,
                                  const std::string& shrunk_text, const std::string& path) {
  auto graph = std::make_shared<viz::WaitGraph>();
  auto timeline = std::make_shared<viz::Timeline>();
  auto trace = std::make_shared<std::deque<std::string>>();
  o.observers.push_back([graph, timeline, trace](const sim::Trace& t, const sim::TraceEvent& e) {
    graph->observe(t, e);
    timeline->observe(t, e);
    trace->push_back(event_text(t, e));
    if (trace->size() > kTraceLines) trace->pop_front();
  });
  const scenarios::RunResult r = scenarios::run_scenario(s, o);

  viz::ReportInput in;
  in.title = sim::cat("blksim: ", s.name, ", seed ", r.seed, ": ", r.verdict.ok() ? "held" : "failed");
  in.failed = !r.verdict.ok();
  in.facts.emplace_back("scenario", sim::cat(s.name, " (", s.path, ")"));
  in.facts.emplace_back("seed", sim::cat(r.seed));
  in.facts.emplace_back("strategy", r.strategy);
  for (engine::Mutant m : o.mutants) in.facts.emplace_back("mutant", std::string(engine::mutant_name(m)));
  in.facts.emplace_back("verdict", sim::cat(sim::verdict_kind_name(r.verdict.kind),
                                            r.verdict.ok() ? std::string() : ": " + r.verdict.message));
  if (!r.verdict.id.empty()) in.facts.emplace_back("property", r.verdict.id);
  if (!r.verdict.location.empty()) in.facts.emplace_back("location", r.verdict.location);
  if (!r.verdict.ok()) in.facts.emplace_back("at", sim::cat("event ", r.verdict.event_index, ", ", r.verdict.time_ns, " ns"));
  for (const std::string& d : r.verdict.details) in.facts.emplace_back("", d);
  in.facts.emplace_back("events", sim::cat(r.events));
  in.facts.emplace_back("fingerprint", sim::format_fingerprint(r.fingerprint));
  in.facts.emplace_back("blksim", BLKSIM_VERSION);
  in.repro_command = repro_command;
  in.scenario_name = s.name;
  in.scenario_text = scenario_text;
  in.shrunk_text = shrunk_text;
  in.timeline_svg = timeline->to_svg();
  viz::DrawOptions draw;
  draw.view = r.verdict.kind == sim::Verdict::Kind::kDeadlock ? viz::View::kDeadlock : viz::View::kSnapshot;
  auto svg = graph->render("svg", draw);
  if (!svg.ok()) throw InternalError{sim::cat(path, ": ", svg.status().message())};
  in.graph_svg = *svg;
  in.trace_lines.assign(trace->begin(), trace->end());
  write_file_atomically(path, viz::html_report(in));
  return r;
}

int cmd_report(const ReportCmd& a) {
  if (std::filesystem::path(a.output).extension() != ".html") {
    throw BadInput{sim::cat("-o ", a.output, ": a report is an .html file")};
  }
  const RunInput in = resolve_run(a.run);
  const scenarios::Scenario& s = in.scenario;
  const std::string& text = in.text;
  const scenarios::RunOptions& o = in.options;
  const std::string& repro_command = in.rerun;
  std::string shrunk;
  if (!a.shrunk.empty()) shrunk = read_file_or_throw(a.shrunk, "shrunk scenario");
  if (a.shrink) {
    scenarios::ShrinkOptions so;
    so.seed = o.seed;
    so.strategy = o.strategy;
    so.tape = o.tape;
    so.mutants = o.mutants;
    so.fixes = o.fixes;
    so.images = scenarios::image_store_of(s);
    so.wall_budget_s = o.wall_budget_s;
    auto result = scenarios::shrink_failure(text, s.path, so);
    if (result.ok()) {
      shrunk = result->text;
    } else if (!absl::IsFailedPrecondition(result.status())) {
      throw InternalError{std::string(result.status().message())};
    }
  }
  const scenarios::RunResult r = write_report(s, text, o, repro_command, shrunk, a.output);
  std::cout << "verdict     " << sim::verdict_kind_name(r.verdict.kind) << (r.verdict.ok() ? "" : ": " + r.verdict.message)
            << "\nreport      " << a.output << "\n";
  return r.verdict.ok() ? kExitPass : kExitFail;
}

}  // namespace cli
