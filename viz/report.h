// A failure report: one self-contained HTML page (inline CSS and SVG, no
// network, no external file) with the verdict, the repro command, the scenario
// (and the shrunk one when there is one), the timeline, the wait graph at the
// failure and the trace around it. Every text from a scenario is escaped.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace viz {

struct ReportInput {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  // shown as a table, in order
  std::string repro_command;
  std::string scenario_name;
  std::string scenario_text;
  std::string shrunk_text;  // "" when there is none
  std::string timeline_svg;
  std::string graph_svg;    // as gvc renders it (its XML prologue is dropped)
  std::vector<std::string> trace_lines;  // the events before the failure, oldest first
  bool failed = true;
};

std::string html_report(const ReportInput& input);

}  // namespace viz
