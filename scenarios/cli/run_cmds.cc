// run, graph and trace: one run of a scenario, seen three ways.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
#include "sim/probe.h"
#include "scenarios/cli/run_input.h"
#include "scenarios/repro.h"
#include "sim/str.h"
#include "viz/wait_graph.h"

namespace cli {
namespace {

std::string extension_of(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  return ext.empty() ? ext : ext.substr(1);
}

// Whether an event falls inside the snapshot (everything up to it, inclusive).
struct SnapshotFilter {
  std::optional<std::uint64_t> last_event;
  std::optional<std::uint64_t> last_time;
  bool covers(const sim::TraceEvent& e) const {
    if (last_event && e.index > *last_event) return false;
    if (last_time && e.time_ns > *last_time) return false;
    return true;
  }
};

SnapshotFilter snapshot_or_throw(const Snapshot& s) {
  if (!s.at_event.empty() && !s.at_time.empty()) throw BadInput{"give --at-event or --at-time, not both"};
  SnapshotFilter f;
  if (!s.at_event.empty()) f.last_event = seed_or_throw(s.at_event, "--at-event");
  if (!s.at_time.empty()) f.last_time = seed_or_throw(s.at_time, "--at-time");
  return f;
}

}  // namespace

int cmd_run(const RunCmd& a) {
  if (is_repro_path(a.run.file)) {
    throw BadInput{sim::cat(a.run.file, " is a repro file: replay it with blksim replay ", a.run.file)};
  }
  const RunInput in = resolve_run(a.run);
  const scenarios::Scenario& s = in.scenario;
  scenarios::RunOptions o = in.options;
  std::ofstream trace_file;
  if (!a.trace_out.empty()) {
    trace_file.open(a.trace_out, std::ios::trunc);
    if (!trace_file) throw BadInput{sim::cat(a.trace_out, ": cannot write")};
    o.trace_stream = &trace_file;
  }
  if (!a.export_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.export_dir, ec);
    if (!std::filesystem::is_directory(a.export_dir, ec)) {
      throw BadInput{sim::cat("--export-images: cannot create the directory ", a.export_dir)};
    }
    o.export_dir = a.export_dir;
  }
  if (dumps_reads(s)) o.record_outcomes = true;  // read -v shows what it read
  scenarios::RunResult r = scenarios::run_scenario(s, o);
  if (!r.export_error.empty()) throw BadInput{sim::cat("--export-images: ", r.export_error)};
  const std::string& repro = in.rerun;
  if (a.json) {
    std::cout << result_json(s, r, repro) << "\n";
  } else {
    print_result(std::cout, s, r, repro);
    print_read_dumps(std::cout, s, r);
  }
  if (!a.json) {
    for (const std::string& path : r.exported) std::cout << "exported    " << path << "\n";
    if (a.probes) {
      // Every code probe, reached or not, by name (sim/probe.h).
      std::map<std::string_view, std::string_view> all;
      for (const sim::Probe* p : sim::Probe::all()) all[p->name()] = p->what();
      for (const auto& [name, what] : all) {
        const auto hit = r.probes.find(std::string(name));
        std::cout << "probe       " << name << " " << (hit == r.probes.end() ? 0 : hit->second) << "  (" << what << ")\n";
      }
    }
  }
  if (!a.tape_out.empty()) write_file_or_throw(a.tape_out, r.tape.to_string() + "\n");
  if (!a.repro_out.empty()) {
    const scenarios::Repro repro_file = scenarios::make_repro(s, in.text, o, r);
    write_file_atomically(a.repro_out, scenarios::repro_to_json(repro_file));
    if (!a.json) std::cout << "repro file  " << a.repro_out << "  (blksim replay " << shell_quote(absolute_path(a.repro_out)) << ")\n";
  }
  return r.verdict.ok() ? kExitPass : kExitFail;
}

int cmd_graph(const GraphCmd& a) {
  const std::string format = extension_of(a.output);
  if (format != "dot" && format != "svg" && format != "png") {
    throw BadInput{sim::cat(a.output, ": unknown graph format '", format, "' (expected .dot, .svg or .png)")};
  }
  if (!a.view.empty() && a.view != "whole" && a.view != "snapshot" && a.view != "deadlock") {
    throw BadInput{sim::cat("--view: expected whole, snapshot or deadlock, got '", a.view, "'")};
  }
  const RunInput in = resolve_run(a.run);
  const scenarios::Scenario& s = in.scenario;
  scenarios::RunOptions o = in.options;
  const SnapshotFilter filter = snapshot_or_throw(a.at);
  auto graph = std::make_shared<viz::WaitGraph>();
  o.observers.push_back([graph, filter](const sim::Trace& t, const sim::TraceEvent& e) {
    if (filter.covers(e)) graph->observe(t, e);
  });
  scenarios::RunResult r = scenarios::run_scenario(s, o);
  viz::DrawOptions draw;
  if (a.max_vertices != 0) draw.max_vertices = a.max_vertices;
  if (a.view == "whole") {
    draw.view = viz::View::kWhole;
  } else if (a.view == "snapshot") {
    draw.view = viz::View::kSnapshot;
  } else if (a.view == "deadlock") {
    draw.view = viz::View::kDeadlock;
  } else if (!a.view.empty()) {
    throw BadInput{sim::cat("--view: expected whole, snapshot or deadlock, got '", a.view, "'")};
  } else if (!a.at.at_event.empty() || !a.at.at_time.empty()) {
    draw.view = viz::View::kSnapshot;
  } else if (r.verdict.kind == sim::Verdict::Kind::kDeadlock) {
    draw.view = viz::View::kDeadlock;
  }
  if (format == "dot") {
    write_file_or_throw(a.output, graph->to_dot(draw));
  } else {
    auto rendered = graph->render(format, draw);
    if (!rendered.ok()) throw InternalError{sim::cat(a.output, ": ", rendered.status().message())};
    write_file_or_throw(a.output, *rendered);
  }
  std::cout << "verdict     " << sim::verdict_kind_name(r.verdict.kind) << "\n";
  std::cout << "fingerprint " << sim::format_fingerprint(r.fingerprint) << "\n";
  std::cout << "wait graph  " << a.output << "\n";
  return r.verdict.ok() ? kExitPass : kExitFail;
}

int cmd_trace(const TraceCmd& a) {
  if (a.format != "text" && a.format != "jsonl") throw BadInput{sim::cat("--format: expected text or jsonl, got '", a.format, "'")};
  const RunInput in = resolve_run(a.run);
  const scenarios::Scenario& s = in.scenario;
  if (!a.node.empty() && s.find_node(a.node) == nullptr) throw BadInput{sim::cat("--node: no node named '", a.node, "' in ", s.path)};
  std::optional<std::uint64_t> request;
  if (!a.request.empty()) request = seed_or_throw(a.request, "--request");
  scenarios::RunOptions o = in.options;
  const SnapshotFilter filter = snapshot_or_throw(a.at);
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::trunc);
    if (!file) throw BadInput{sim::cat(a.output, ": cannot write")};
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  std::uint64_t printed = 0;
  o.observers.push_back([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (!filter.covers(e)) return;
    const std::string json = t.to_json(e);
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(json);
    if (!a.node.empty() && (!j.contains("node") || j["node"] != a.node)) return;
    if (request && (!j.contains("req") || j["req"] != *request)) return;
    out << (a.format == "jsonl" ? json : event_text(t, e)) << "\n";
    ++printed;
  });
  scenarios::RunResult r = scenarios::run_scenario(s, o);
  out.flush();
  std::cerr << "trace: " << printed << " of " << r.events << " events; verdict " << sim::verdict_kind_name(r.verdict.kind)
            << (r.verdict.ok() ? "" : ": " + r.verdict.message) << "; fingerprint " << sim::format_fingerprint(r.fingerprint)
            << "\n";
  return r.verdict.ok() ? kExitPass : kExitFail;
}

}  // namespace cli
