// The timeline: requests, driver operations, waits, faults and scenario events
// of a run as SVG; stable, escaped, bounded.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "scenarios/runner.h"
#include "viz/report.h"
#include "viz/timeline.h"

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::shared_ptr<viz::Timeline> timeline_of(const std::string& text_or_file, std::uint64_t seed, bool inline_text = false) {
  auto s = inline_text ? scenarios::parse_scenario(text_or_file, std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/x.toml")
                       : scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/" + text_or_file);
  INFO(s.status().message());
  REQUIRE(s.ok());
  auto timeline = std::make_shared<viz::Timeline>();
  scenarios::RunOptions o;
  o.seed = seed;
  o.observers.push_back([timeline](const sim::Trace& t, const sim::TraceEvent& e) { timeline->observe(t, e); });
  scenarios::run_scenario(*s, o);
  return timeline;
}

}  // namespace

TEST_CASE("the timeline draws requests, driver operations, waits, faults and scenario events") {
  const std::string eio = timeline_of("eio-fragment.toml", 0)->to_svg();
  CHECK(eio.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(count(eio, "class=\"request\"") > 50);
  CHECK(count(eio, "class=\"driver\"") > 50);
  CHECK(count(eio, "class=\"wait\"") > 0);
  CHECK(count(eio, "class=\"fault\"") > 0);
  CHECK(eio.find("node errors") != std::string::npos);
  const std::string crash = timeline_of("flush-crash.toml", 1)->to_svg();
  CHECK(count(crash, "class=\"mark\"") == 3);  // three crash events
  CHECK(crash.find("event power-cut: crash") != std::string::npos);
  CHECK(timeline_of("flush-crash.toml", 1)->to_svg() == crash);  // stable
  const std::string failed = timeline_of("fua-crash.toml", 0)->to_svg();
  CHECK(failed.find("verdict oracle") != std::string::npos);
}

TEST_CASE("the timeline escapes names and bounds its rows") {
  const std::string text = R"([scenario]
name = "x"
oracles = ["hygiene"]
[[node]]
name = "<b>&disk"
driver = "null"
size = "1M"
latency_ns = 100
[[job]]
name = "j<script>"
node = "<b>&disk"
queue_depth = 300
random = { ops = 600, read = 50, write = 50, flush = 0, min_bytes = 512, max_bytes = 512 }
)";
  auto timeline = timeline_of(text, 0, true);
  viz::TimelineOptions options;
  options.max_rows = 50;
  const std::string svg = timeline->to_svg(options);
  CHECK(svg.find("&lt;b&gt;&amp;disk") != std::string::npos);
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK(svg.find("j&lt;script&gt;") != std::string::npos);
  CHECK(timeline->rows() > 50);
  CHECK(svg.find(std::to_string(timeline->rows() - 50) + " more rows not drawn") != std::string::npos);
}

TEST_CASE("the report page escapes everything a scenario names and inlines its pictures") {
  viz::ReportInput in;
  in.title = "t <i>";
  in.facts = {{"verdict", "oracle: <script>alert(1)</script>"}};
  in.repro_command = "blksim run a&b.toml";
  in.scenario_name = "n";
  in.scenario_text = "name = \"</pre><h1>\"";
  in.timeline_svg = "<svg id=\"t\"></svg>";
  in.graph_svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg id=\"g\"></svg>";
  in.trace_lines = {"#1 a<b"};
  const std::string html = viz::html_report(in);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("a&amp;b.toml") != std::string::npos);
  CHECK(html.find("&lt;/pre&gt;&lt;h1&gt;") != std::string::npos);
  CHECK(html.find("<?xml") == std::string::npos);
  CHECK(html.find("<svg id=\"g\">") != std::string::npos);
  CHECK(html.find("#1 a&lt;b") != std::string::npos);
  CHECK(html.find("Shrunk scenario") == std::string::npos);  // none given
}
