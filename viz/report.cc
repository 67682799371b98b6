#include "viz/report.h"

#include "sim/str.h"
#include "viz/escape.h"

namespace viz {
namespace {

// gvc's SVG starts with an XML declaration and a DOCTYPE, which do not belong
// inside an HTML page.
std::string inline_svg(const std::string& svg) {
  const std::size_t start = svg.find("<svg");
  return start == std::string::npos ? std::string() : svg.substr(start);
}

constexpr const char* kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table.facts td { padding: 2px 12px 2px 0; vertical-align: top; }
table.facts td:first-child { color: #666; white-space: nowrap; }
.verdict-fail { color: #b00020; font-weight: bold; }
.verdict-pass { color: #1b7f3b; font-weight: bold; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
.scroll { overflow: auto; border: 1px solid #eee; max-height: 900px; }
.trace { font-family: monospace; font-size: 12px; }
.trace div { white-space: pre; }
.trace .last { background: #ffe3e3; }
)";

}  // namespace

std::string html_report(const ReportInput& in) {
  std::string facts;
  for (const auto& [key, value] : in.facts) {
    const bool verdict = key == "verdict";
    facts += sim::cat("<tr><td>", xml_escape(key), "</td><td", verdict ? (in.failed ? " class=\"verdict-fail\"" : " class=\"verdict-pass\"") : "",
                      ">", xml_escape(value), "</td></tr>\n");
  }
  std::string trace;
  for (std::size_t i = 0; i < in.trace_lines.size(); ++i) {
    trace += sim::cat("<div", i + 1 == in.trace_lines.size() ? " class=\"last\"" : "", ">", xml_escape(in.trace_lines[i]),
                      "</div>\n");
  }
  std::string out = sim::cat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", xml_escape(in.title),
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>", xml_escape(in.title), "</h1>\n",
      "<table class=\"facts\" id=\"facts\">\n", facts, "</table>\n",
      "<h2>Reproduce</h2>\n<pre id=\"repro\">", xml_escape(in.repro_command), "</pre>\n",
      "<h2>Timeline</h2>\n<p>Rows are coroutines carrying requests, grouped by node; light bars are requests (green: "
      "flushes), dark bars driver operations, amber bars waits, red marks faults; dashed lines are scenario events and "
      "the verdict. Hover for details.</p>\n<div class=\"scroll\" id=\"timeline\">\n",
      in.timeline_svg, "</div>\n",
      "<h2>Wait graph at the failure</h2>\n<div class=\"scroll\" id=\"wait-graph\">\n", inline_svg(in.graph_svg), "</div>\n",
      "<h2>Trace before the failure</h2>\n<div class=\"scroll trace\" id=\"trace\">\n", trace, "</div>\n");
  if (!in.shrunk_text.empty()) {
    out += sim::cat("<h2>Shrunk scenario</h2>\n<pre id=\"shrunk\">", xml_escape(in.shrunk_text), "</pre>\n");
  }
  out += sim::cat("<h2>Scenario ", xml_escape(in.scenario_name), "</h2>\n<pre id=\"scenario\">", xml_escape(in.scenario_text),
                  "</pre>\n",
                  // A sign of life for tests that read the browser's console: a page that
                  // breaks stops before it.
                  "<script>console.log('blksim report rendered: ' + document.querySelectorAll('svg').length + ' svg');"
                  "</script>\n</body>\n</html>\n");
  return out;
}

}  // namespace viz
